import Foundation
import MultiObjective
import StudyModel

/// BayesianOptimization's search for several objectives, or one under constraints: expected
/// hypervolume improvement weighted by the probability of feasibility.
///
/// - One GP per objective on its standardized losses (warm starts and the data subset beyond
///   500 observations as the single-objective search; a single constrained objective keeps its
///   power transform), and one per constraint on its signed value (≤ 0 holds; standardized,
///   not warped, so the bound stays a known point τ of the GP's units).
/// - The front (noise-aware): the objective GPs' posterior means at the observations that met
///   every constraint, their non-dominated ones. The reference point rⱼ: the worst posterior mean
///   on the feasible front and on the front of all completed observations, feasible or not, plus
///   10% of the objective's observed range. Close to the front, so the volume does not overvalue
///   its extremes (DTLZ2, 5 seeds: the worst loss of any observation as rⱼ sent most trials to
///   the corners, median hypervolume 0.39, 0.66 with this rule); set by infeasible trials too, so
///   a disconnected feasible front keeps room to grow towards pieces not found yet (C2-DTLZ2:
///   0.13 over 5 seeds from the feasible front alone, 0.37 over 10 with both; bench/README.md).
/// - The next configuration maximizes log EHVI (`LogEHVI`) plus Σ_c log P(c ≤ τ_c)
///   (`FeasibleHypervolumeAcquisition`) with the acquisition optimizer. With one objective
///   this is log constrained EI below the best feasible loss; while nothing is feasible the
///   front is empty and EHVI is the expected volume below r, so the search heads for the
///   feasible region where the objectives look good.
/// - Pending trials (kriging believer): every GP is conditioned on them at its posterior mean
///   (hyperparameters kept), and a pending point the constraint GPs believe feasible joins the
///   front at its believed objectives, so a batch spreads along the front.
/// - Three objectives give about n²/2 boxes for a front of n points: beyond
///   `frontLimit` members, the ones contributing most hypervolume are kept.
extension BayesianOptimization {
  static let frontLimit = 64

  /// How many objectives the completed observations carry (1 for a single objective).
  static func objectiveCount(_ context: SearchContext) -> Int {
    Swift.max(context.observations.filter { $0.state == .completed }.map(\.losses.count).max() ?? 0, 1)
  }

  /// How many constraints the completed observations carry: their signed values' count, or 1
  /// when only violations are given (and one is broken).
  static func constraintCount(_ context: SearchContext) -> Int {
    let completed = context.observations.filter { $0.state == .completed }
    let signed = completed.map(\.constraints.count).max() ?? 0
    return signed > 0 ? signed : completed.contains { $0.violation > 0 } ? 1 : 0
  }

  func suggestByHypervolume(_ count: Int, in context: SearchContext, objectives m: Int, constraints c: Int) throws
    -> [Configuration]
  {
    var result = try startupSuggestions(count, in: context)
    guard result.count < count else { return result }
    let encoding = SpaceEncoding(context.space)
    var plain = self
    plain.outputWarping = false
    // Hypervolume is measured in the objectives' own (standardized) units: a power transform
    // per objective would stretch the volume near its best values and send the search to the
    // front's extremes (DTLZ2: most trials at its corners, median hypervolume 0.39 → 0.66).
    // One objective (constrained EI) keeps the warping, as the single-objective search does.
    let objectiveModels = try (0..<m).map { j in
      try (m == 1 ? self : plain).slot(j).model(
        Self.objectiveContext(context, objective: j, of: m), encoding: encoding)
    }
    let constraintModels = try (0..<c).map { k in
      let (constraintContext, bound) = Self.constraintContext(context, constraint: k)
      let model = try plain.slot(m + k).model(constraintContext, encoding: encoding)
      return (model: model, bound: Self.standardized(bound, among: model.all.losses))
    }

    let feasible = context.observations.filter { $0.state == .completed && $0.violation == 0 }.map {
      encoding.encode($0.configuration)
    }
    let frontInputs = try frontMembers(feasible, models: objectiveModels.map(\.gp), objectives: m)
    let reference = try referencePoint(context, encoding: encoding, models: objectiveModels, feasibleFront: frontInputs)
    // Anchors for local candidates: five front members spread along the first objective or,
    // while nothing is feasible, the observations that come closest.
    var anchors = Self.spread(frontInputs.sorted { $0.losses[0] < $1.losses[0] }.map(\.input), count: 5)
    if anchors.isEmpty {
      let completed = context.observations.filter { $0.state == .completed }
      anchors = completed.sorted { $0.violation < $1.violation }.prefix(5).map { encoding.encode($0.configuration) }
    }
    let anchorPoints = anchors.map(encoding.unitPoint)

    let d = encoding.dimension
    let all = objectiveModels[0].all
    var excluded = Set(stride(from: 0, to: all.x.count, by: Swift.max(d, 1)).map { Array(all.x[$0..<($0 + d)]) })
    var believed = context.pending + result
    excluded.formUnion(believed.map(encoding.encode))

    for offset in result.count..<count {
      let index = context.suggestedCount + offset
      var objectiveGPs = objectiveModels.map(\.gp)
      var constraintGPs = constraintModels.map { (gp: $0.model.gp, bound: $0.bound) }
      var front = frontInputs.map(\.losses)
      if !believed.isEmpty {
        let inputs = believed.map(encoding.encode)
        let flat = inputs.flatMap { $0 }
        let objectiveMeans = try objectiveModels.map { try $0.gp.posterior(flat).mean }
        let constraintMeans = try constraintModels.map { try $0.model.gp.posterior(flat).mean }
        objectiveGPs = try zip(objectiveModels, objectiveMeans).map { model, mean in
          try Self.believing(model.used, hyperparameters: model.hyperparameters, inputs: flat, means: mean, encoding)
        }
        constraintGPs = try zip(constraintModels, constraintMeans).map { model, mean in
          let gp = try Self.believing(
            model.model.used, hyperparameters: model.model.hyperparameters, inputs: flat, means: mean, encoding)
          return (gp, model.bound)
        }
        for i in inputs.indices
        where constraintModels.indices.allSatisfy({ constraintMeans[$0][i] <= constraintModels[$0].bound }) {
          front.append(objectiveMeans.map { $0[i] })
        }
      }
      let boxes = NondominatedBoxes(points: Self.limited(front, reference: reference), reference: reference)
      let surface = FeasibleHypervolumeAcquisition(
        objectives: objectiveGPs, improvement: LogEHVI(boxes, objectives: m), constraints: constraintGPs)
      var optimizer = AcquisitionOptimizer(surface: surface, encoding: encoding)
      let n = objectiveGPs[0].count
      // m + c posteriors per candidate: fewer candidates than one GP gets.
      optimizer.candidateCount = n > 200 ? Swift.min(candidates, 256) : Swift.min(candidates, 1024)
      optimizer.perturbationsPerScale = n > 200 ? 8 : 16
      optimizer.localSearches = n > 200 ? 3 : n > 100 ? 4 : 6
      optimizer.localIterations = n > 200 ? 15 : n > 100 ? 25 : 40
      guard
        let configuration = try optimizer.suggestion(
          seed: seed, index: index, anchors: anchorPoints, excluded: excluded)
      else { break }
      result.append(configuration)
      excluded.insert(encoding.encode(configuration))
      believed.append(configuration)
    }
    return result
  }

  /// The context one objective's GP is fitted to: each completed observation valued by that
  /// objective's loss (direction minimize), pruned ones by their intermediate value for the
  /// first objective only (imputed as the worst for the others), as the runner reports them.
  static func objectiveContext(_ context: SearchContext, objective j: Int, of m: Int) -> SearchContext {
    guard m > 1 else { return context }
    var result = context
    result.direction = .minimize
    for i in result.observations.indices {
      var observation = result.observations[i]
      switch observation.state {
      case .completed:
        observation.value = observation.losses.count == m ? observation.losses[j] : nil
      case .pruned:
        observation.value = j == 0 ? observation.value.map(context.direction.loss) : nil
      case .failed:
        break
      }
      observation.samples = []
      result.observations[i] = observation
    }
    return result
  }

  /// The context one constraint's GP is fitted to (completed observations only: a failed or
  /// pruned trial says nothing about its constraints) and the raw bound below which the
  /// constraint holds: 0 for a signed value, half the smallest positive violation when only
  /// violations (0 when met) are known.
  static func constraintContext(_ context: SearchContext, constraint k: Int) -> (SearchContext, Double) {
    var result = context
    result.direction = .minimize
    let completed = context.observations.filter { $0.state == .completed }
    let signed = completed.contains { !$0.constraints.isEmpty }
    result.observations = completed.map { observation in
      var valued = observation
      valued.value =
        signed
        ? (observation.constraints.count > k ? observation.constraints[k] : nil) : observation.violation
      valued.samples = []
      return valued
    }
    let smallest = completed.map(\.violation).filter { $0 > 0 }.min() ?? 1
    return (result, signed ? 0 : smallest / 2)
  }

  /// A raw constraint bound in the units of a GP fitted to `raw` standardized (see
  /// `OutputWarping.standardize`); all values equal: ±1 by which side of the bound they are.
  static func standardized(_ bound: Double, among raw: [Double]) -> Double {
    let n = Double(Swift.max(raw.count, 1))
    let mean = raw.reduce(0, +) / n
    let variance = raw.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
    guard variance > 0, variance.isFinite else { return mean <= bound ? 1 : -1 }
    return (bound - mean) / variance.squareRoot()
  }

  /// The feasible observations whose posterior means are non-dominated, with those means.
  func frontMembers(_ inputs: [[Double]], models: [GaussianProcess], objectives m: Int) throws -> [(
    input: [Double], losses: [Double]
  )] {
    guard !inputs.isEmpty else { return [] }
    let means = try models.map { try $0.posterior(inputs.flatMap { $0 }).mean }
    let points = inputs.indices.map { i in (0..<m).map { means[$0][i] } }
    return Dominance.front(points).map { (inputs[$0], points[$0]) }
  }

  /// The reference point in the objective GPs' units: per objective, the worst posterior mean
  /// on the feasible front or on the front of every completed observation, feasible or not,
  /// plus 10% of the objective's observed range (at least 0.01). See the type's notes for why
  /// both fronts: the feasible one alone boxes the search in, the other alone could cut off
  /// feasible members it dominates (with one objective, EI would stop at the best infeasible
  /// loss instead of the best feasible one).
  func referencePoint(
    _ context: SearchContext, encoding: SpaceEncoding,
    models: [(all: TrainingData, used: TrainingData, hyperparameters: GPHyperparameters, gp: GaussianProcess)],
    feasibleFront: [(input: [Double], losses: [Double])]
  ) throws -> [Double] {
    let completed = context.observations.filter { $0.state == .completed }
    let front =
      completed.allSatisfy({ $0.violation == 0 })
      ? feasibleFront
      : try feasibleFront
        + frontMembers(
          completed.map { encoding.encode($0.configuration) }, models: models.map(\.gp), objectives: models.count)
    return models.indices.map { j in
      let high = models[j].all.y.max() ?? 0
      let low = models[j].all.y.min() ?? 0
      let nadir = front.map { $0.losses[j] }.max() ?? high
      return nadir + Swift.max(0.1 * (high - low), 0.01)
    }
  }

  /// A GP with the same hyperparameters conditioned also on believed values at `inputs`.
  static func believing(
    _ data: TrainingData, hyperparameters: GPHyperparameters, inputs: [Double], means: [Double],
    _ encoding: SpaceEncoding
  ) throws -> GaussianProcess {
    try GaussianProcess(
      x: data.x + inputs, y: data.y + means, isCategorical: encoding.isCategorical, hyperparameters: hyperparameters,
      believed: means.count)
  }

  /// At most `frontLimit` points of a front: those with the largest hypervolume contributions.
  static func limited(_ front: [[Double]], reference: [Double]) -> [[Double]] {
    let members = Dominance.front(front).map { front[$0] }
    guard members.count > frontLimit else { return members }
    let contributions = Hypervolume.contributions(members, reference: reference)
    return members.indices.sorted { contributions[$0] > contributions[$1] }.prefix(frontLimit).map { members[$0] }
  }

  /// Up to `count` of `points`, evenly spaced through their order.
  static func spread(_ points: [[Double]], count: Int) -> [[Double]] {
    guard points.count > count else { return points }
    return (0..<count).map { points[$0 * (points.count - 1) / Swift.max(count - 1, 1)] }
  }
}
