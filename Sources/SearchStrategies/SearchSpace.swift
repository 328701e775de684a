import Foundation
public import StudyModel

/// The domain of one parameter.
public enum Domain: Sendable, Hashable {
  /// A real interval `[min, max]`, sampled uniformly or log-uniformly, optionally on `min + k*step`.
  case float(min: Double, max: Double, log: Bool, step: Double?)
  /// Integers in `[min, max]` on `min + k*step` (step 1 when not given), optionally log-uniform.
  case int(min: Int, max: Int, log: Bool, step: Int)
  /// A finite set of values of any scalar type.
  case categorical([ParameterValue])
}

/// A parameter is active only when every condition holds: the named parent parameter is
/// active and has one of `values` (`when: {optimizer: sgd}`).
public struct Condition: Sendable, Hashable {
  public var parameter: String
  public var values: [ParameterValue]

  public init(parameter: String, values: [ParameterValue]) {
    self.parameter = parameter
    self.values = values
  }

  public func holds(in configuration: Configuration) -> Bool {
    guard let value = configuration[parameter] else { return false }
    return values.contains { Self.matches($0, value) }
  }

  /// `1` in a condition matches an int parameter's `1` and a float parameter's `1.0`.
  static func matches(_ expected: ParameterValue, _ actual: ParameterValue) -> Bool {
    if expected == actual { return true }
    if let a = expected.numericValue, let b = actual.numericValue { return a == b }
    return false
  }
}

public struct Parameter: Sendable, Hashable {
  public var name: String
  public var domain: Domain
  public var conditions: [Condition]
  /// Explicit values for grid search (`values:` on a numeric parameter).
  public var gridValues: [ParameterValue]?
  /// Number of evenly spaced grid points (log-spaced when `log`) for a numeric parameter.
  public var gridPoints: Int?
  /// A float parameter (without step) sampled and modelled on the logit scale, log(x / (1 − x)):
  /// fractions whose useful values crowd towards 0 or 1 (momentum 0.5–0.999, Adam's β₂
  /// 0.9–0.9999) get as much room near the edge as in the middle, and the GP sees
  /// 0.99 → 0.999 as far as 0.9 → 0.99. Needs 0 < min < max < 1; elsewhere (and on int,
  /// step or log parameters) it is ignored: the spec parser refuses those.
  public var logit: Bool

  /// Whether the logit scale applies (see `logit`).
  var usesLogit: Bool {
    guard logit, case .float(let lo, let hi, false, nil) = domain else { return false }
    return lo > 0 && hi < 1 && lo < hi
  }

  public init(
    name: String, domain: Domain, conditions: [Condition] = [],
    gridValues: [ParameterValue]? = nil, gridPoints: Int? = nil, logit: Bool = false
  ) {
    self.name = name
    self.domain = domain
    self.conditions = conditions
    self.gridValues = gridValues
    self.gridPoints = gridPoints
    self.logit = logit
  }

  public static func float(
    _ name: String, _ min: Double, _ max: Double, log: Bool = false, step: Double? = nil, logit: Bool = false,
    when conditions: [Condition] = []
  ) -> Parameter {
    Parameter(
      name: name, domain: .float(min: min, max: max, log: log, step: step), conditions: conditions, logit: logit)
  }

  public static func int(
    _ name: String, _ min: Int, _ max: Int, log: Bool = false, step: Int = 1,
    when conditions: [Condition] = []
  ) -> Parameter {
    Parameter(name: name, domain: .int(min: min, max: max, log: log, step: step), conditions: conditions)
  }

  public static func categorical(
    _ name: String, _ values: [ParameterValue], when conditions: [Condition] = []
  ) -> Parameter {
    Parameter(name: name, domain: .categorical(values), conditions: conditions)
  }

  /// Maps a coordinate `u` in `[0, 1]` onto the domain: log scale, step grid and integer
  /// rounding applied, so the result always lies inside the bounds and on the grid. Every grid
  /// point (and every category) owns an equal share of `[0, 1]`, so uniform `u` gives uniform
  /// values; on a log scale, equal shares of log-space.
  public func value(atUnit u: Double) -> ParameterValue {
    let u = Swift.min(Swift.max(u, 0), 1)
    switch domain {
    case .float(let lo, let hi, _, nil) where usesLogit:
      let (a, b) = (Self.logit(lo), Self.logit(hi))
      return .double(Swift.min(Swift.max(1 / (1 + Foundation.exp(-(a + u * (b - a)))), lo), hi))
    case .float(let lo, let hi, let log, nil):
      let x =
        log ? Foundation.exp(Foundation.log(lo) + u * (Foundation.log(hi) - Foundation.log(lo))) : lo + u * (hi - lo)
      return .double(Swift.min(Swift.max(x, lo), hi))
    case .float(let lo, let hi, let log, let step?):
      let count = Int(((hi - lo) / step + 1e-9).rounded(.down))
      let k = Self.gridIndex(u, lo: lo, step: step, count: count, log: log)
      return .double(Swift.min(lo + Double(k) * step, hi))
    case .int(let lo, let hi, let log, let step):
      let k = Self.gridIndex(u, lo: Double(lo), step: Double(step), count: (hi - lo) / step, log: log)
      return .int(lo + k * step)
    case .categorical(let values):
      return values[Swift.min(Int(u * Double(values.count)), values.count - 1)]
    }
  }

  /// The grid index `k` in `0...count` of the point `lo + k*step` whose cell contains `u`;
  /// cells span `x ± step/2`, measured in log-space when `log`.
  private static func gridIndex(_ u: Double, lo: Double, step: Double, count: Int, log: Bool) -> Int {
    let a = lo - step / 2
    let b = lo + (Double(count) + 0.5) * step
    let x =
      log && a > 0 ? Foundation.exp(Foundation.log(a) + u * (Foundation.log(b) - Foundation.log(a))) : a + u * (b - a)
    let k = ((x - lo) / step).rounded()
    return Swift.min(Swift.max(Int(k), 0), count)
  }

  /// log(x / (1 − x)).
  static func logit(_ x: Double) -> Double { Foundation.log(x / (1 - x)) }

  /// The inverse of `value(atUnit:)`: the centre of the value's cell in `[0, 1]`.
  public func unit(of value: ParameterValue) -> Double? {
    func position(_ x: Double, _ a: Double, _ b: Double, _ log: Bool) -> Double {
      guard b > a else { return 0.5 }
      let u =
        log && a > 0
        ? (Foundation.log(x) - Foundation.log(a)) / (Foundation.log(b) - Foundation.log(a)) : (x - a) / (b - a)
      return Swift.min(Swift.max(u, 0), 1)
    }
    switch domain {
    case .float(let lo, let hi, _, nil) where usesLogit:
      return value.numericValue.map { x in
        guard x > 0, x < 1 else { return x <= 0 ? 0 : 1 }
        return Swift.min(Swift.max((Self.logit(x) - Self.logit(lo)) / (Self.logit(hi) - Self.logit(lo)), 0), 1)
      }
    case .float(let lo, let hi, let log, nil):
      return value.numericValue.map { position($0, lo, hi, log) }
    case .float(let lo, let hi, let log, let step?):
      let count = Int(((hi - lo) / step + 1e-9).rounded(.down))
      return value.numericValue.map { position($0, lo - step / 2, lo + (Double(count) + 0.5) * step, log) }
    case .int(let lo, let hi, let log, let step):
      let top = Double(lo + (hi - lo) / step * step)
      return value.numericValue.map { position($0, Double(lo) - Double(step) / 2, top + Double(step) / 2, log) }
    case .categorical(let values):
      guard let index = values.firstIndex(where: { Condition.matches($0, value) }) else { return nil }
      return (Double(index) + 0.5) / Double(values.count)
    }
  }

  /// Whether `value` is a legal value of this parameter: inside the bounds, on the step grid.
  public func contains(_ value: ParameterValue) -> Bool {
    switch domain {
    case .float(let lo, let hi, _, let step):
      guard case .double(let x) = value, x >= lo, x <= hi else { return false }
      guard let step else { return true }
      let k = (x - lo) / step
      return abs(k - k.rounded()) < 1e-6
    case .int(let lo, let hi, _, let step):
      guard case .int(let x) = value, x >= lo, x <= hi else { return false }
      return (x - lo) % step == 0
    case .categorical(let values):
      return values.contains(value)
    }
  }
}

/// The parameters of a study, in an order where every parent comes before its conditionals.
public struct SearchSpace: Sendable, Hashable {
  public var parameters: [Parameter]

  public init(_ parameters: [Parameter]) {
    self.parameters = parameters
  }

  public var dimension: Int { parameters.count }

  public func parameter(named name: String) -> Parameter? {
    parameters.first { $0.name == name }
  }

  /// Builds a configuration from one point of the unit cube (one coordinate per parameter,
  /// in `parameters` order); inactive conditional parameters are dropped.
  public func configuration(atUnit point: [Double]) -> Configuration {
    precondition(point.count == parameters.count, "point has \(point.count) coordinates, space has \(parameters.count)")
    var configuration = Configuration()
    for (parameter, u) in zip(parameters, point) where parameter.conditions.allSatisfy({ $0.holds(in: configuration) })
    {
      configuration[parameter.name] = parameter.value(atUnit: u)
    }
    return configuration
  }

  /// The unit-cube point of a configuration; an inactive parameter sits at `inactive` (0.5 by
  /// default, the centre, so it neither attracts nor repels a distance-based model).
  public func unitPoint(of configuration: Configuration, inactive: Double = 0.5) -> [Double] {
    parameters.map { parameter in
      configuration[parameter.name].flatMap { parameter.unit(of: $0) } ?? inactive
    }
  }

  /// Whether the parameter is active in the configuration (all its conditions hold).
  public func isActive(_ parameter: Parameter, in configuration: Configuration) -> Bool {
    parameter.conditions.allSatisfy { $0.holds(in: configuration) }
  }

  /// Whether the configuration has exactly the active parameters, each with a legal value.
  public func isValid(_ configuration: Configuration) -> Bool {
    var seen = Configuration()
    for parameter in parameters {
      let active = isActive(parameter, in: seen)
      guard let value = configuration[parameter.name] else {
        if active { return false } else { continue }
      }
      guard active, parameter.contains(value) else { return false }
      seen[parameter.name] = value
    }
    return Set(configuration.names) == Set(seen.names)
  }

  /// The configuration with every value in its parameter's own type: an int parameter's `3.0`
  /// becomes `3`, a float parameter's `3` becomes `3.0`, a category matching by number becomes
  /// the category itself. Values round-tripped through JSON compare equal after this.
  public func canonical(_ configuration: Configuration) -> Configuration {
    var result = Configuration()
    for (name, value) in configuration {
      guard let parameter = parameter(named: name) else {
        result[name] = value
        continue
      }
      switch parameter.domain {
      case .float:
        result[name] = value.numericValue.map { .double($0) } ?? value
      case .int:
        if let x = value.numericValue, x == x.rounded(), abs(x) < 9e15 {
          result[name] = .int(Int(x))
        } else {
          result[name] = value
        }
      case .categorical(let values):
        result[name] = values.first { Condition.matches($0, value) } ?? value
      }
    }
    return result
  }
}
