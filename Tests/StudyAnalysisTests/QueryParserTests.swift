import Testing
import TrackingBridge

@testable import StudyAnalysis

@Suite("Plain-language queries: parsing")
struct QueryParserTests {
  /// Questions as people write them, and what each must mean.
  static let phrasings: [(String, QueryIntent)] = [
    // best by a metric
    ("which run had the highest f1", .best(metric: "f1", extreme: .highest, count: 1, tier: nil)),
    ("Which RUN had the HIGHEST F1?", .best(metric: "F1", extreme: .highest, count: 1, tier: nil)),
    ("best val_loss", .best(metric: "val_loss", extreme: .best, count: 1, tier: nil)),
    ("top 5 runs by accuracy", .best(metric: "accuracy", extreme: .best, count: 5, tier: nil)),
    ("top five trials by accuracy", .best(metric: "accuracy", extreme: .best, count: 5, tier: nil)),
    ("what is the best trial", .best(metric: nil, extreme: .best, count: 1, tier: nil)),
    ("what's the best config so far?", .best(metric: nil, extreme: .best, count: 1, tier: nil)),
    (
      "which configuration had the lowest validation loss",
      .best(metric: "validation loss", extreme: .lowest, count: 1, tier: nil)
    ),
    ("worst run", .best(metric: nil, extreme: .worst, count: 1, tier: nil)),
    ("the 3 worst runs", .best(metric: nil, extreme: .worst, count: 3, tier: nil)),
    ("max recall@100", .best(metric: "recall@100", extreme: .highest, count: 1, tier: nil)),
    ("minimum latency_ms", .best(metric: "latency_ms", extreme: .lowest, count: 1, tier: nil)),
    ("best val_loss in full trainings", .best(metric: "val_loss", extreme: .best, count: 1, tier: .fullTraining)),
    ("best quick test", .best(metric: nil, extreme: .best, count: 1, tier: .quickTest)),
    ("which trial scored highest", .best(metric: nil, extreme: .highest, count: 1, tier: nil)),
    ("best value", .best(metric: nil, extreme: .best, count: 1, tier: nil)),
    // compare
    ("compare 3 and 7", .compare(.numbers([3, 7]))),
    ("compare trials 3, 7 and 9", .compare(.numbers([3, 7, 9]))),
    ("compare trial 3 with trial 7", .compare(.numbers([3, 7]))),
    ("compare #3 and #7", .compare(.numbers([3, 7]))),
    ("compare trial-3 to trial-7", .compare(.numbers([3, 7]))),
    ("trial 3 vs trial 7", .compare(.numbers([3, 7]))),
    ("run 2 versus run 5", .compare(.numbers([2, 5]))),
    ("what's the difference between run 3 and run 7", .compare(.numbers([3, 7]))),
    ("compare run one and run two", .compare(.numbers([1, 2]))),
    ("compare the last 3 runs", .compare(.last(3))),
    ("compare the last three runs", .compare(.last(3))),
    ("compare the best 2 runs", .compare(.best(2))),
    ("compare the top 4", .compare(.best(4))),
    ("compare the first 2 trials", .compare(.first(2))),
    ("side by side the best 3 runs", .compare(.best(3))),
    // curves
    ("show the loss curve of trial 17", .curve(trial: .number(17), metric: "loss")),
    ("plot val_accuracy for run #3", .curve(trial: .number(3), metric: "val_accuracy")),
    ("how did the loss evolve in trial 2", .curve(trial: .number(2), metric: "loss")),
    ("show the learning curve of trial seventeen", .curve(trial: .number(17), metric: nil)),
    ("trial 17's loss history", .curve(trial: .number(17), metric: "loss")),
    ("loss curve of the best run", .curve(trial: .best, metric: "loss")),
    ("accuracy over time for the last trial", .curve(trial: .last, metric: "accuracy")),
    // heatmaps
    ("heatmap of accuracy over lr and batch_size", .heatmap(metric: "accuracy", x: "lr", y: "batch_size", tier: nil)),
    ("heatmap lr vs batch_size", .heatmap(metric: nil, x: "lr", y: "batch_size", tier: nil)),
    ("heat map of f1 by lr and dropout", .heatmap(metric: "f1", x: "lr", y: "dropout", tier: nil)),
    ("heatmap over x and k", .heatmap(metric: nil, x: "x", y: "k", tier: nil)),
    ("heatmap lr x hidden", .heatmap(metric: nil, x: "lr", y: "hidden", tier: nil)),
    ("show a heatmap", .heatmap(metric: nil, x: nil, y: nil, tier: nil)),
    (
      "heatmap of loss over learning rate and batch size for quick tests",
      .heatmap(metric: "loss", x: "learning rate", y: "batch size", tier: .quickTest)
    ),
    // importance
    ("which parameters matter most", .importance(metric: nil, tier: nil)),
    ("what matters for f1", .importance(metric: "f1", tier: nil)),
    ("which hyperparameter has the biggest impact on accuracy", .importance(metric: "accuracy", tier: nil)),
    ("parameter importance", .importance(metric: nil, tier: nil)),
    ("what affects val_loss in full trainings", .importance(metric: "val_loss", tier: .fullTraining)),
    // counts
    ("how many trials failed", .count(state: .failed, tier: nil)),
    ("how many runs were pruned", .count(state: .pruned, tier: nil)),
    ("How many trials?", .count(state: nil, tier: nil)),
    ("how many full trainings", .count(state: nil, tier: .fullTraining)),
    ("number of completed runs", .count(state: .completed, tier: nil)),
    ("how many trials timed out", .count(state: .timedOut, tier: nil)),
    // trial lists
    ("which runs were pruned", .trials(state: .pruned, tier: nil, selection: nil)),
    ("list the failed trials", .trials(state: .failed, tier: nil, selection: nil)),
    ("show the last 5 trials", .trials(state: nil, tier: nil, selection: .last(5))),
    ("list all runs", .trials(state: nil, tier: nil, selection: nil)),
    ("which trials are still running", .trials(state: .running, tier: nil, selection: nil)),
    // one trial
    ("what were the params of trial 4", .trial(.number(4))),
    ("show the configuration of trial 4", .trial(.number(4))),
    ("hyperparameters of #4", .trial(.number(4))),
    ("params of the best run", .trial(.best)),
    ("trial 12", .trial(.number(12))),
    ("tell me about run 4", .trial(.number(4))),
    ("why did trial 4 fail", .trial(.number(4))),
    ("why was run 6 pruned", .trial(.number(6))),
    // logs
    ("show the log of trial 4", .log(trial: .number(4), stream: "stdout")),
    ("stderr of trial 4", .log(trial: .number(4), stream: "stderr")),
    ("output of the last run", .log(trial: .last, stream: "stdout")),
    // models, summary, help
    ("which model is registered", .model),
    ("what's the champion", .model),
    ("show the registered model", .model),
    ("how is the study going", .summary),
    ("status", .summary),
    ("give me an overview", .summary),
    ("help", .help),
    ("what can you do", .help),
  ]

  @Test("a phrasing maps onto its intent", arguments: phrasings)
  func phrasingMapsOntoIntent(_ question: String, _ expected: QueryIntent) {
    #expect(QueryParser.parse(question) == expected, "\(question)")
  }

  @Test("the table covers at least 40 phrasings and every intent")
  func tableIsBroad() {
    #expect(Self.phrasings.count >= 40)
    let kinds = Set(Self.phrasings.map { Mirror(reflecting: $0.1).children.first?.label ?? "\($0.1)" })
    #expect(kinds.count == 12)
  }

  @Test(
    "a question no rule maps is not understood",
    arguments: [
      "", "   ", "?!", "make me a sandwich", "what is the weather", "delete trial 3", "how many trials used adam",
      "compare apples and oranges", "list the pizzas", "why", "run", "trials with f1 above 0.9",
    ])
  func notUnderstood(_ question: String) {
    #expect(QueryParser.parse(question) == nil, "\(question)")
  }

  @Test("parsing is deterministic and every example is understood")
  func examplesAreUnderstood() {
    for example in QueryParser.examples {
      let first = QueryParser.parse(example)
      #expect(first != nil, "\(example)")
      #expect(QueryParser.parse(example) == first)
    }
  }

  @Test("an intent restates itself in one line")
  func restatement() {
    #expect(
      "\(QueryIntent.best(metric: "f1", extreme: .best, count: 1, tier: nil))" == "best trial by f1")
    #expect(
      "\(QueryIntent.best(metric: "f1", extreme: .highest, count: 3, tier: .quickTest))"
        == "3 trials with the highest f1, quick_test only")
    #expect("\(QueryIntent.compare(.last(3)))" == "compare the last 3 trials")
    #expect("\(QueryIntent.curve(trial: .number(17), metric: "loss"))" == "loss curve of trial 17")
    #expect(
      "\(QueryIntent.heatmap(metric: nil, x: "lr", y: nil, tier: nil))"
        == "heatmap of the objective over lr × the most important parameter")
  }
}

@Suite("Plain-language queries: name resolution")
struct NameResolverTests {
  let metrics = NameResolver(
    kind: "metric", names: ["f1", "val_loss", "train_loss", "accuracy", "val_accuracy", "latency_ms"])
  let parameters = NameResolver(kind: "parameter", names: ["lr", "batch_size", "hidden", "learning_rate_decay"])

  @Test(
    "a name resolves exactly, ignoring case and separators, word by word, by prefix or a small typo",
    arguments: [
      ("f1", "f1"), ("F1", "f1"), ("val-loss", "val_loss"), ("Val Loss", "val_loss"), ("validation loss", "val_loss"),
      ("accur", "accuracy"), ("val acc", "val_accuracy"), ("latency", "latency_ms"), ("acuracy", "accuracy"),
      ("val_los", "val_loss"),
    ])
  func metricResolves(_ phrase: String, _ expected: String) throws {
    #expect(try metrics.resolve(phrase) == expected)
  }

  @Test(
    "a parameter resolves by its initials or words",
    arguments: [("batch size", "batch_size"), ("BatchSize", "batch_size"), ("lr", "lr"), ("hid", "hidden")])
  func parameterResolves(_ phrase: String, _ expected: String) throws {
    #expect(try parameters.resolve(phrase) == expected)
  }

  @Test("an ambiguous name lists the candidates")
  func ambiguous() {
    #expect(throws: QueryFailure("'loss' could be the metric 'train_loss' or 'val_loss'; say which")) {
      try metrics.resolve("loss")
    }
  }

  @Test("a near miss suggests, an unknown name lists what exists")
  func unknown() {
    #expect(
      throws: QueryFailure(
        "no metric 'lss'; did you mean 'train_loss' or 'val_loss'? Metrics: accuracy, f1, latency_ms, train_loss, val_accuracy, val_loss."
      )
    ) { try metrics.resolve("lss") }
    #expect(
      throws: QueryFailure(
        "no metric 'pizza'. Metrics: accuracy, f1, latency_ms, train_loss, val_accuracy, val_loss.")
    ) { try metrics.resolve("pizza") }
    #expect(throws: QueryFailure("no parameter 'momentum'. Parameters: batch_size, hidden, learning_rate_decay, lr.")) {
      try parameters.resolve("momentum")
    }
  }

  @Test("\"learning rate\" finds lr by its initials")
  func initials() throws {
    #expect(try NameResolver(kind: "parameter", names: ["lr", "dropout"]).resolve("learning rate") == "lr")
    #expect(try NameResolver(kind: "parameter", names: ["learning_rate", "dropout"]).resolve("lr") == "learning_rate")
  }
}
