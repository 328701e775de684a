import Foundation
import SearchStrategies
import Testing

@testable import TrialScheduler

/// Generated inputs for the spec parser: the valid spec with its scalars replaced by hostile
/// values (numbers too large for any integer, non-finite numbers, huge durations and sizes),
/// keys dropped, lines duplicated and bytes flipped. A trap anywhere in parsing, validation,
/// strategy construction or the first suggestions kills the test process, so "no crash" is
/// the assertion; the test also checks that every rejection is a located message.
@Suite("Spec parser fuzzing")
struct SpecFuzzTests {
  /// Values a user (or an attacker) might write where a number, a duration or a size goes.
  static let hostile = [
    "10000000000000000", "99999999999999999h", "1e300", "-1e300", "1e30GB", "1e16", "9223372036854775807",
    "9223372036854775808", "-9223372036854775809", "18446744073709551616", ".inf", "-.inf", ".nan", "1e308",
    "1.7976931348623157e308", "-0", "0", "-1", "1", "2", "0.5", "1e-320", "4.9e-324", "99999999999999999999999ms",
    "1e20s", "1e300h", "5e-324KB", "1e18MB", "99999999GiB", "''", "\"\"", "~", "[]", "{}", "[1, 2]", "{a: 1}", "x",
    "1h1e300m", "..", "1.5", "3", "true", "null", "1e15", "4503599627370497", "9007199254740993", "-9007199254740993",
    "0x7fffffffffffffff", "1_000", "+5", "1e400", "-1e400",
  ]

  /// A second base that reaches more of the parser: grid search with grid points, ASHA, a
  /// log-scaled int and stepped floats.
  static let gridSpec = """
    name: fuzz-grid
    objective: {metric: loss, direction: minimize}
    search: {algorithm: grid, seed: 3}
    parameters:
      width: {type: int, min: 1, max: 64, log: true, grid_points: 4}
      rate: {type: float, min: 0.001, max: 1.0, step: 0.001, grid_points: 3}
      kind: {values: [a, b]}
    trial: {command: [echo, "{width}"], timeout: 90s, stop_grace_period: 2s, log_limit: 1MB}
    early_stopping: {rule: asha, min_resource: 1, max_resource: 27, reduction_factor: 3}
    """

  static let bayesSpec = """
    name: fuzz-bayes
    objective: {metric: loss, direction: minimize}
    search: {algorithm: bayes, seed: 1, max_trials: 20, parallelism: 2, startup_trials: 3}
    parameters:
      a: {type: float, min: -5, max: 5}
      b: {type: int, min: 0, max: 1000, step: 10}
    trial: {command: [echo, "{a}", "{b}"], timeout: 1h30m, retries: 2, max_failed_trials: 3}
    early_stopping: {rule: hyperband, min_resource: 1, max_resource: 81, reduction_factor: 3}
    """

  @Test("thousands of mutated specs never crash the parser, and every rejection is located")
  func mutatedSpecsNeverCrash() throws {
    var random = SplitMix64(seed: 0x5EED)
    let bases = [validSpec, Self.gridSpec, Self.bayesSpec]
    let deadline = Date().addingTimeInterval(20)
    var parsed = 0
    var rejected = 0
    for index in 0..<4000 where Date() < deadline {
      let yaml = Self.mutate(bases[index % bases.count], &random)
      do {
        let spec = try StudySpec.parse(yaml: yaml, file: "fuzz.yaml", baseDirectory: "/tmp")
        parsed += 1
        try? Self.exercise(spec)
      } catch {
        rejected += 1
        for issue in error.issues {
          #expect(issue.line >= 1 && issue.column >= 1, "unlocated issue for:\n\(yaml)\n\(issue)")
          #expect(!issue.message.isEmpty)
        }
      }
    }
    // Both outcomes must occur, or the mutations are not reaching the validator.
    #expect(parsed > 50, "only \(parsed) mutated specs parsed")
    #expect(rejected > 500, "only \(rejected) mutated specs were rejected")
  }

  @Test(
    "numbers too large for their field are located errors, not traps",
    arguments: [
      ("timeout: 10m", "timeout: 10000000000000000", "trial.timeout", "longer than the largest supported duration"),
      ("timeout: 10m", "timeout: 99999999999999999h", "trial.timeout", "longer than the largest supported duration"),
      ("retries: 1", "retries: 1\n  stop_grace_period: 99999999999999999h", "trial.stop_grace_period", "longer than"),
      ("retries: 1", "retries: 1\n  log_limit: 1e30GB", "trial.log_limit", "larger than the largest supported size"),
      (
        "hidden: {type: int, min: 8, max: 256", "hidden: {type: int, min: 8, max: 1e300", "parameters.hidden.max",
        "±2^53"
      ),
      ("max_trials: 40", "max_trials: 9223372036854775808", "search.max_trials", "at most 10000000"),
      ("seed: 7", "seed: 1e300", "search.seed", "at most"),
      (
        "dropout: {type: float, min: 0.0, max: 0.5, step: 0.05}",
        "dropout: {type: float, min: 0.0, max: 0.5, step: 1e-300}",
        "parameters.dropout.step", "more than 2^53 values"
      ),
      (
        "lr: {type: float, min: 1.0e-4, max: 0.3, log: true}", "lr: {type: float, min: -1.7e308, max: 1.7e308}",
        "parameters.lr.max", "finite"
      ),
    ])
  func overflowIsReported(old: String, new: String, path: String, message: String) {
    let yaml = validSpec.replacingOccurrences(of: old, with: new)
    #expect(yaml != validSpec)
    do {
      _ = try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: "/tmp")
      Issue.record("accepted \(new)")
    } catch {
      let issue = error.issues.first { $0.path == path }
      #expect(issue?.message.contains(message) == true, "\(error)")
      #expect(issue?.description.hasPrefix("study.yaml:") == true)
    }
  }

  /// What a runner does with a spec right after parsing it.
  static func exercise(_ spec: StudySpec) throws {
    let strategy = try spec.makeStrategy()
    var context = SearchContext(space: spec.space, direction: spec.objective.direction)
    for _ in 0..<3 {
      guard let configuration = try strategy.suggest(1, in: context).first else { break }
      for parameter in spec.space.parameters {
        if let value = configuration[parameter.name] { _ = parameter.unit(of: value) }
      }
      context.observations.append(.completed(configuration, 1))
    }
    _ = spec.earlyStopping?.makeRule()
  }

  static func mutate(_ base: String, _ random: inout SplitMix64) -> String {
    var lines = base.components(separatedBy: "\n")
    for _ in 0..<(1 + random.below(3)) {
      let index = random.below(lines.count)
      switch random.below(10) {
      case 0..<6: lines[index] = replaceScalar(in: lines[index], &random)
      case 6: lines.remove(at: index)
      case 7: lines.insert(lines[index], at: index)
      case 8:
        var bytes = Array(lines[index].utf8)
        if !bytes.isEmpty { bytes[random.below(bytes.count)] = UInt8(random.below(128)) }
        lines[index] = String(decoding: bytes, as: UTF8.self)
      default: lines[index] = String(lines[index].prefix(random.below(lines[index].count + 1)))
      }
      if lines.isEmpty { break }
    }
    return lines.joined(separator: "\n")
  }

  /// One value after a `key: ` on the line replaced by a hostile one.
  static func replaceScalar(in line: String, _ random: inout SplitMix64) -> String {
    let pattern = try! NSRegularExpression(pattern: #"(:\s*)([^,{}\[\]\s][^,{}\[\]]*?)(?=\s*[,}\]]|\s*$)"#)
    let range = NSRange(line.startIndex..., in: line)
    let matches = pattern.matches(in: line, range: range)
    guard !matches.isEmpty else { return line }
    let match = matches[random.below(matches.count)]
    let value = Self.hostile[random.below(Self.hostile.count)]
    let target = Range(match.range(at: 2), in: line)!
    return line.replacingCharacters(in: target, with: value)
  }
}

extension SplitMix64 {
  /// A number in 0..<bound (0 when bound is 0 or 1).
  mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
}
