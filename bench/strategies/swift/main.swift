// The Swift side of bench/strategies: prints one JSON object per line for bench/strategies/run.
//
//   bench-strategies quality <branin|hartmann6> <bayes|random> <seed> <trials> [startup]
//       runs one study, prints {"kind":"quality", ..., "best": v}
//   bench-strategies speed <dimension> <observations> <repeats>
//       fills a history with random observations, makes one untimed suggestion (so the GP fit
//       is warm, as in a running study), then times `repeats` consecutive suggestions, each
//       told before the next; prints {"kind":"speed", ..., "seconds": [...]}

import Foundation
import SearchStrategies

enum Functions {
  static func branin(_ x: [Double]) -> Double {
    let (x1, x2) = (x[0], x[1])
    let b = 5.1 / (4 * Double.pi * Double.pi)
    let c = 5 / Double.pi
    let t = 1 / (8 * Double.pi)
    return pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * cos(x1) + 10
  }

  static func hartmann6(_ x: [Double]) -> Double {
    let alpha = [1.0, 1.2, 3.0, 3.2]
    let a: [[Double]] = [
      [10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14],
    ]
    let p: [[Double]] = [
      [1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381],
    ]
    var total = 0.0
    for i in 0..<4 {
      var inner = 0.0
      for j in 0..<6 { inner += a[i][j] * pow(x[j] - p[i][j] * 1e-4, 2) }
      total -= alpha[i] * exp(-inner)
    }
    return total
  }

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
  let startup = arguments.count > 6 ? Int(arguments[6])! : 10
  let space: SearchSpace
  let objective: ([Double]) -> Double
  switch function {
  case "branin":
    space = SearchSpace([.float("x1", -5, 10), .float("x2", 0, 15)])
    objective = Functions.branin
  default:
    space = SearchSpace((0..<6).map { .float("x\($0)", 0, 1) })
    objective = Functions.hartmann6
  }
  let names = space.parameters.map(\.name)
  let strategy: any SearchStrategy =
    strategyName == "random" ? RandomSearch(seed: seed) : BayesianOptimization(seed: seed, startupTrials: startup)
  var context = SearchContext(space: space)
  var best = Double.infinity
  let start = Date()
  for _ in 0..<trials {
    let configuration = try strategy.suggest(1, in: context)[0]
    let value = objective(point(configuration, names))
    best = min(best, value)
    context.observations.append(.completed(configuration, value))
  }
  emit([
    "kind": "quality", "function": function, "sampler": "hpod-\(strategyName)", "seed": seed, "best": best,
    "seconds": Date().timeIntervalSince(start),
  ])

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
  let strategy = BayesianOptimization(seed: 0, startupTrials: 10)
  var seconds: [Double] = []
  for round in 0...repeats {
    let start = Date()
    let configuration = try strategy.suggest(1, in: context)[0]
    if round > 0 { seconds.append(Date().timeIntervalSince(start)) }
    context.observations.append(.completed(configuration, Functions.smooth(point(configuration, names))))
  }
  emit(["kind": "speed", "sampler": "hpod-bayes", "dimension": dimension, "observations": count, "seconds": seconds])

default:
  FileHandle.standardError.write(Data("unknown mode \(arguments[1])\n".utf8))
  exit(2)
}
