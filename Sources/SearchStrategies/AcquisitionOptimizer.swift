import Foundation
import StudyModel

/// Maps configurations to the Gaussian process's inputs and back.
///
/// One GP coordinate per parameter: a numeric parameter's unit-cube coordinate (the centre of
/// its grid cell for int and step parameters), a categorical parameter's category index
/// (compared by equality in the kernel). An inactive parameter sits at 0.5 (numeric) or -1
/// (categorical, a category of its own).
struct SpaceEncoding: Sendable {
  let space: SearchSpace
  let isCategorical: [Bool]

  /// For each parameter, the indices of the parameters its conditions refer to.
  private let parents: [[(index: Int, values: [ParameterValue])]]

  init(_ space: SearchSpace) {
    self.space = space
    isCategorical = space.parameters.map {
      if case .categorical = $0.domain { true } else { false }
    }
    let index = Dictionary(space.parameters.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    parents = space.parameters.map { parameter in
      parameter.conditions.map { (index[$0.parameter] ?? Int.max, $0.values) }
    }
  }

  /// The GP inputs of the configuration at a unit-cube point, and which parameters are active:
  /// the same as `encode(space.configuration(atUnit:))` without building the configuration.
  func input(atUnit point: [Double]) -> (input: [Double], active: [Bool]) {
    var values = [ParameterValue?](repeating: nil, count: point.count)
    var input = [Double](repeating: 0, count: point.count)
    var active = [Bool](repeating: false, count: point.count)
    for (k, parameter) in space.parameters.enumerated() {
      let isActive = parents[k].allSatisfy { parent in
        guard parent.index < k, let value = values[parent.index] else { return false }
        return parent.values.contains { Condition.matches($0, value) }
      }
      active[k] = isActive
      guard isActive else {
        input[k] = isCategorical[k] ? -1 : 0.5
        continue
      }
      let value = parameter.value(atUnit: point[k])
      values[k] = value
      if case .categorical(let categories) = parameter.domain {
        input[k] = Double(categories.firstIndex { Condition.matches($0, value) } ?? -1)
      } else {
        input[k] = parameter.unit(of: value) ?? 0.5
      }
    }
    return (input, active)
  }

  var dimension: Int { isCategorical.count }

  func encode(_ configuration: Configuration) -> [Double] {
    space.parameters.enumerated().map { k, parameter in
      guard let value = configuration[parameter.name] else { return isCategorical[k] ? -1 : 0.5 }
      if case .categorical(let values) = parameter.domain {
        return Double(values.firstIndex { Condition.matches($0, value) } ?? -1)
      }
      return parameter.unit(of: value) ?? 0.5
    }
  }

  /// The unit-cube point of GP inputs (inverse of `encode` up to rounding).
  func unitPoint(of input: [Double]) -> [Double] {
    space.parameters.enumerated().map { k, parameter in
      if case .categorical(let values) = parameter.domain {
        return input[k] < 0 ? 0.5 : (input[k] + 0.5) / Double(values.count)
      }
      return Swift.min(Swift.max(input[k], 0), 1)
    }
  }

  /// The configuration nearest to GP inputs: rounded onto every grid, inactive parameters dropped.
  func configuration(of input: [Double]) -> Configuration {
    space.configuration(atUnit: unitPoint(of: input))
  }
}

/// Maximizes an acquisition surface (`surface`, see `AcquisitionSurface`) over the search
/// space (like Optuna's `optim_mixed`):
///
/// 1. scores `candidateCount` scrambled-Halton points plus Gaussian perturbations of the
///    anchors (the best observed configurations), every one rounded onto its grid before it is
///    scored, so integer, step and categorical parameters are evaluated where a trial would
///    actually run;
/// 2. refines `localSearches` of them (the best half overall, the rest the best quasi-random
///    ones, so that distant basins get refined too) with projected L-BFGS along the numeric
///    coordinates inside the unit box (categorical ones held), then rounds again; the
///    refinements run concurrently, one per core, and are compared in a fixed order;
/// 3. sweeps the winner's discrete parameters: every category of each categorical parameter
///    (exhaustive, small sets) and each int or step one moved one and two average cells
///    (1/levels of [0, 1]) either way: its nearest grid neighbours on a linear scale, moves of
///    one ratio on a log scale, which leave a small value in its wide cell (1 on `1–32, log`).
///    Moving such values at least a grid step was measured on bench/sklearn_tuning and not
///    kept (bench/README.md, "Log-scaled integers").
///
/// Configurations whose GP inputs are in `excluded` (observed or pending) are never returned.
struct AcquisitionOptimizer {
  var surface: any AcquisitionSurface
  var encoding: SpaceEncoding
  var candidateCount = 2048
  var localSearches = 5
  var localIterations = 40
  /// Gaussian perturbations of each anchor (best observed configuration) at each of three
  /// scales, scored beside the quasi-random candidates.
  var perturbationsPerScale = 16

  /// The acquisition's values at GP inputs.
  func scores(_ inputs: [[Double]]) throws -> [Double] {
    var scores: [Double] = []
    scores.reserveCapacity(inputs.count)
    let chunk = 256
    for start in stride(from: 0, to: inputs.count, by: chunk) {
      scores += try surface.values(Array(inputs[start..<Swift.min(start + chunk, inputs.count)]))
    }
    return scores
  }

  /// Projected L-BFGS on the acquisition along the active numeric coordinates from `start`,
  /// rounded onto the grids; nil when no coordinate can move.
  private func refine(_ start: [Double], active: [Bool]) -> [Double]? {
    let movable = (0..<encoding.dimension).filter { k in !encoding.isCategorical[k] && active[k] }
    guard !movable.isEmpty else { return nil }
    let result = LBFGS.minimize(
      start: movable.map { start[$0] }, lower: Array(repeating: 0, count: movable.count),
      upper: Array(repeating: 1, count: movable.count), maxIterations: localIterations, gradientTolerance: 1e-4
    ) { coordinates in
      var input = start
      for (k, value) in zip(movable, coordinates) { input[k] = value }
      guard let (value, gradient) = surface.valueWithGradient(input), value.isFinite else {
        return (.infinity, Array(repeating: 0, count: movable.count))
      }
      return (-value, movable.map { -gradient[$0] })
    }
    var input = start
    for (k, value) in zip(movable, result.point) { input[k] = value }
    return encoding.encode(encoding.configuration(of: input))
  }

  /// The best configuration for the study's `index`-th suggestion: candidates from the scrambled
  /// Halton sequence and random perturbations drawn for that suggestion, so a seed and history
  /// give the same suggestions whichever order they are asked in.
  func suggestion(seed: UInt64, index: Int, anchors: [[Double]], excluded: Set<[Double]>) throws -> Configuration? {
    var rng = SplitMix64(seed: seed, stream: 3, index: UInt64(index))
    let halton = ScrambledHalton(seed: seed &+ 0x9E37_79B9 &* UInt64(index + 1))
    return try optimize(halton: halton, haltonOffset: 0, anchors: anchors, rng: &rng, excluded: excluded)?
      .configuration
  }

  /// The best configuration found, or nil when every candidate was excluded.
  func optimize(
    halton: ScrambledHalton, haltonOffset: Int, anchors: [[Double]], rng: inout SplitMix64,
    excluded excludedInputs: Set<[Double]>
  ) throws -> (configuration: Configuration, value: Double)? {
    let space = encoding.space
    let d = encoding.dimension
    var units = halton.points(haltonOffset..<(haltonOffset + candidateCount), dimension: d)
    for anchor in anchors {
      for scale in [0.2, 0.05, 0.01] {
        for _ in 0..<perturbationsPerScale {
          units.append(
            anchor.enumerated().map { k, u in
              if encoding.isCategorical[k] { return rng.nextUnit() < 1 / Double(d) ? rng.nextUnit() : u }
              return Swift.min(Swift.max(u + scale * rng.nextGaussian(), 0), 1)
            })
        }
      }
    }
    // Candidates are handled as GP inputs (rounded onto every grid), deduplicated against
    // each other and against the excluded configurations.
    var seen = excludedInputs
    var inputs: [[Double]] = []
    var activity: [[Bool]] = []
    var isGlobal: [Bool] = []
    for (number, unit) in units.enumerated() {
      let (input, active) = encoding.input(atUnit: unit)
      if seen.insert(input).inserted {
        inputs.append(input)
        activity.append(active)
        isGlobal.append(number < candidateCount)
      }
    }
    guard !inputs.isEmpty else { return nil }
    let scores = try self.scores(inputs)
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var winner = (input: inputs[order[0]], value: scores[order[0]])

    // Local refinement along the numeric coordinates of the active parameters, from the best
    // candidates overall and, for diversity, from the best quasi-random ones elsewhere.
    var starts = Array(order.prefix((localSearches + 1) / 2))
    for index in order where isGlobal[index] && starts.count < localSearches && !starts.contains(index) {
      starts.append(index)
    }
    // The refinements are independent (the GP is only read): one per core, combined in
    // `starts`' order so the result does not depend on which finishes first.
    let origins = starts.map { (inputs[$0], activity[$0]) }
    let refined = ResultSlots<[Double]?>(count: origins.count)
    DispatchQueue.concurrentPerform(iterations: origins.count) { slot in
      refined[slot] = .success(refine(origins[slot].0, active: origins[slot].1))
    }
    for slot in origins.indices {
      guard let rounded = try refined[slot]!.get(), !excludedInputs.contains(rounded) else { continue }
      let value = try self.scores([rounded])[0]
      if value > winner.value { winner = (rounded, value) }
    }

    // Discrete sweep around the winner, twice at most.
    for _ in 0..<2 {
      var neighbours: [[Double]] = []
      let unit = encoding.unitPoint(of: winner.input)
      let active = encoding.input(atUnit: unit).active
      for (k, parameter) in space.parameters.enumerated() where active[k] {
        var alternatives: [Double] = []
        switch parameter.domain {
        case .categorical(let values):
          alternatives = (0..<values.count).map { (Double($0) + 0.5) / Double(values.count) }
        case .int(let lo, let hi, _, let step):
          let cells = Double((hi - lo) / step + 1)
          alternatives = [-2.0, -1, 1, 2].map { unit[k] + $0 / cells }
        case .float(let lo, let hi, _, let step?):
          let cells = ((hi - lo) / step + 1e-9).rounded(.down) + 1
          alternatives = [-2.0, -1, 1, 2].map { unit[k] + $0 / cells }
        case .float(_, _, _, nil):
          continue
        }
        for u in alternatives where u >= 0 && u <= 1 {
          var moved = unit
          moved[k] = u
          let input = encoding.input(atUnit: moved).input
          if !excludedInputs.contains(input), input != winner.input { neighbours.append(input) }
        }
      }
      guard !neighbours.isEmpty else { break }
      let neighbourScores = try self.scores(neighbours)
      guard let top = neighbourScores.indices.max(by: { neighbourScores[$0] < neighbourScores[$1] }),
        neighbourScores[top] > winner.value
      else { break }
      winner = (neighbours[top], neighbourScores[top])
    }
    return (encoding.configuration(of: winner.input), winner.value)
  }
}

extension SplitMix64 {
  /// A standard normal draw (Box–Muller).
  mutating func nextGaussian() -> Double {
    let u1 = Swift.max(nextUnit(), 0x1p-60)
    let u2 = nextUnit()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }
}
