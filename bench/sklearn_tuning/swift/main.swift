// The Swift side of bench/sklearn_tuning: prints one JSON object per line for its `run`.
//
//   bench-sklearn study <problem> <bayes|random> <seed> <rounds> <batch>
//       tunes one problem of problems.py (a scikit-learn estimator's cross-validated loss) for
//       `rounds` rounds of `batch` trials, as the daemon runs a study with `batch` parallel
//       slots that all free up together: each round's suggestions are asked one at a time,
//       every one with the round's earlier suggestions pending (the scheduler's call,
//       `suggest(1, …)` with the running trials in `context.pending`), then all of them are
//       evaluated and observed. `batch` 1 is the sequential study. Prints
//       {"kind": "study", ..., "losses": [every trial's loss, in order], "best": b}.

import Foundation
import SearchStrategies
import StudyModel

func emit(_ object: [String: Any]) {
  let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
  FileHandle.standardOutput.write(data + Data("\n".utf8))
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("bench-sklearn: \(message)\n".utf8))
  exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count == 7, arguments[1] == "study", let seed = UInt64(arguments[4]), let rounds = Int(arguments[5]),
  let batch = Int(arguments[6]), rounds > 0, batch > 0
else {
  fail("usage: bench-sklearn study <problem> <bayes|random> <seed> <rounds> <batch>")
}
let problem = arguments[2]
let strategyName = arguments[3]
let strategy: any SearchStrategy
switch strategyName {
case "random": strategy = RandomSearch(seed: seed)
case "bayes": strategy = BayesianOptimization(seed: seed, startupTrials: 10)
default: fail("unknown strategy \(strategyName)")
}

let evaluator = try ProblemEvaluator(problem: problem)
var context = SearchContext(space: evaluator.space)
var losses: [Double] = []
var bestConfiguration: [String: Any] = [:]
var suggestSeconds = 0.0
// Seconds spent suggesting each round's `batch` configurations (the last: with 8 pending at
// 120 observations, issue 37's "a batch of 8 at 128 observations").
var roundSeconds: [Double] = []
let start = Date()
for _ in 0..<rounds {
  var round: [Configuration] = []
  let roundStart = suggestSeconds
  for _ in 0..<batch {
    let askStart = Date()
    guard let configuration = try strategy.suggest(1, in: context).first else { fail("the space is exhausted") }
    suggestSeconds += Date().timeIntervalSince(askStart)
    round.append(configuration)
    context.pending.append(configuration)
  }
  roundSeconds.append(suggestSeconds - roundStart)
  for configuration in round {
    let loss = try evaluator.evaluate(configuration)
    if loss < losses.min() ?? .infinity { bestConfiguration = ProblemEvaluator.jsonObject(configuration) }
    losses.append(loss)
    context.pending.removeFirst()
    context.observations.append(.completed(configuration, loss))
  }
}
emit([
  "kind": "study", "problem": problem, "optimizer": "hpod-\(strategyName)", "seed": seed, "batch": batch,
  "rounds": rounds, "losses": losses, "best": losses.min()!, "seconds": Date().timeIntervalSince(start),
  "suggest_seconds": suggestSeconds, "round_suggest_seconds": roundSeconds, "best_config": bestConfiguration,
])
