// The Swift side of bench/strategies: prints one JSON object per line for bench/strategies/run.
//
//   bench-strategies quality <function> <bayes|random> <seed> <trials> [pending]
//       runs one study on a function of the shared suite (evaluated by bench/strategies/suite.py,
//       which imports ../shared/bench/functions.py), prints {"kind":"quality", ..., "best": v};
//       with `pending` P, every suggestion is made with P earlier trials still running
//   bench-strategies speed <dimension> <observations> <repeats>
//       fills a history with random observations, makes one untimed suggestion (so the GP fit
//       is warm, as in a running study), then times `repeats` consecutive suggestions, each
//       told before the next; prints {"kind":"speed", ..., "seconds": [...]}

import Foundation
import SearchStrategies
import StudyModel

enum Functions {
  /// A smooth test function for the speed runs (any dimension).
  static func smooth(_ x: [Double]) -> Double {
    x.enumerated().reduce(0) { $0 + pow($1.element - 0.3, 2) + 0.1 * sin(7 * $1.element + Double($1.offset)) }
  }
}

func emit(_ object: [String: Any]) {
  let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
  FileHandle.standardOutput.write(data + Data("\n".utf8))
}

func point(_ configuration: Configuration, _ names: [String]) -> [Double] {
  names.map { configuration[$0]!.numericValue! }
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
  FileHandle.standardError.write(Data("usage: bench-strategies quality|speed ...\n".utf8))
  exit(2)
}

switch arguments[1] {
case "quality":
  let function = arguments[2]
  let strategyName = arguments[3]
  let seed = UInt64(arguments[4])!
  let trials = Int(arguments[5])!
  let pending = arguments.count > 6 ? Int(arguments[6])! : 0
  let evaluator = try SuiteEvaluator(function: function)
  let space = evaluator.space
  let strategy: any SearchStrategy
  if strategyName == "random" {
    strategy = RandomSearch(seed: seed)
  } else {
    // `bayes`, or `bayes-<option>-…` for experiments (`nowarp`: no output warping; `start<N>`:
    // N quasi-random startup trials instead of 10).
    var bayes = BayesianOptimization(seed: seed, startupTrials: 10)
    let options = strategyName.split(separator: "-").dropFirst()
    if options.contains("nowarp") { bayes.outputWarping = false }
    if let option = options.first(where: { $0.hasPrefix("start") }) {
      guard let count = Int(option.dropFirst(5)), count >= 0 else {
        FileHandle.standardError.write(Data("bench-strategies: '\(option)' needs a count, e.g. start15\n".utf8))
        exit(2)
      }
      bayes.startupTrials = count
    }
    strategy = bayes
  }
  var context = SearchContext(space: space)
  // With `pending` P > 0: every suggestion after the first P is made while the P previous
  // trials are still running (in `context.pending`); then the oldest of them finishes.
  var running: [(Configuration, Double)] = []
  var best = Double.infinity
  var suggestSeconds = 0.0
  let start = Date()
  for _ in 0..<trials {
    if pending > 0, running.count >= pending {
      let (configuration, value) = running.removeFirst()
      context.pending.removeFirst()
      context.observations.append(.completed(configuration, value))
    }
    let askStart = Date()
    let configuration = try strategy.suggest(1, in: context)[0]
    suggestSeconds += Date().timeIntervalSince(askStart)
    let value = try evaluator.evaluate(configuration)
    if ProcessInfo.processInfo.environment["HPOD_BENCH_TRACE"] != nil {
      FileHandle.standardError.write(Data("\(context.suggestedCount) \(value) \(configuration)\n".utf8))
    }
    best = min(best, value)
    if pending > 0 {
      running.append((configuration, value))
      context.pending.append(configuration)
    } else {
      context.observations.append(.completed(configuration, value))
    }
  }
  var row: [String: Any] = [
    "kind": "quality", "function": function, "sampler": "hpod-\(strategyName)", "seed": seed, "best": best,
    "seconds": Date().timeIntervalSince(start), "suggest_seconds": suggestSeconds, "trials": trials,
  ]
  if pending > 0 { row["pending"] = pending }
  emit(row)

case "speed":
  let dimension = Int(arguments[2])!
  let count = Int(arguments[3])!
  let repeats = Int(arguments[4])!
  let space = SearchSpace((0..<dimension).map { .float("x\($0)", 0, 1) })
  let names = space.parameters.map(\.name)
  var rng = SplitMix64(seed: 42)
  var context = SearchContext(space: space)
  for _ in 0..<count {
    let configuration = space.configuration(atUnit: (0..<dimension).map { _ in rng.nextUnit() })
    context.observations.append(.completed(configuration, Functions.smooth(point(configuration, names))))
  }
  var strategy = BayesianOptimization(seed: 0, startupTrials: 10)
  // An optional fifth argument `nowarp` times the GP without output warping.
  if arguments.count > 5, arguments[5] == "nowarp" { strategy.outputWarping = false }
  var seconds: [Double] = []
  // Whether each timed suggestion beat the best value of the history before it.
  var improved: [Bool] = []
  var best = context.observations.compactMap(\.value).min() ?? .infinity
  for round in 0...repeats {
    let start = Date()
    let configuration = try strategy.suggest(1, in: context)[0]
    let elapsed = Date().timeIntervalSince(start)
    let value = Functions.smooth(point(configuration, names))
    if round > 0 {
      seconds.append(elapsed)
      improved.append(value < best)
    }
    best = min(best, value)
    context.observations.append(.completed(configuration, value))
  }
  emit([
    "kind": "speed", "sampler": "hpod-bayes", "dimension": dimension, "observations": count, "seconds": seconds,
    "improved": improved,
  ])

default:
  FileHandle.standardError.write(Data("unknown mode \(arguments[1])\n".utf8))
  exit(2)
}
