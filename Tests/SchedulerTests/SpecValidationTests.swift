import Foundation
import SearchStrategies
import Testing
import TrackingBridge

@testable import TrialScheduler

/// A complete, valid spec; each malformed case below changes one part of it.
let validSpec = """
  name: spirals-mlp
  description: MLP on generated spirals
  objective: {metric: val_accuracy, direction: maximize}
  search:
    algorithm: random
    seed: 7
    max_trials: 40
    parallelism: 4
  parameters:
    lr: {type: float, min: 1.0e-4, max: 0.3, log: true}
    hidden: {type: int, min: 8, max: 256, log: true}
    dropout: {type: float, min: 0.0, max: 0.5, step: 0.05}
    optimizer: {type: categorical, values: [sgd, adam]}
    momentum: {type: float, min: 0.0, max: 0.99, when: {optimizer: sgd}}
  trial:
    command: [python3, train.py, "--lr={lr}", "--hidden={hidden}", "--epochs={tier.epochs}"]
    env: {PYTHONUNBUFFERED: "1"}
    timeout: 10m
    retries: 1
    max_failed_trials: 5
    cost_per_hour: 1.20
  tiers:
    quick_test: {epochs: 2, data_fraction: 0.1}
    full_training: {epochs: 30, data_fraction: 1.0}
  promotion: {top_k: 1, min_value: 0.80}
  early_stopping: {rule: median, min_steps: 3, min_trials: 5}
  registration:
    model: spirals-mlp
    when: ["val_accuracy >= 0.95", "latency_ms <= 5"]
    artifact: model.json
    alias: champion
  tracking:
    experiment: spirals-mlp
    mlflow: {uri: "http://127.0.0.1:5000"}
  """

/// A malformed spec, the line its first problem is reported on, and what the message says.
struct MalformedSpec: CustomTestStringConvertible, Sendable {
  var label: String
  var yaml: String
  var line: Int
  var message: String

  var testDescription: String { label }

  /// The valid spec with `entries` (YAML list lines) as `search.enqueue`; the first entry is
  /// on line 10.
  static func enqueueing(_ label: String, _ entries: String, line: Int = 10, message: String) -> MalformedSpec {
    replacing(
      label, "parallelism: 4\n", with: "parallelism: 4\n  enqueue:\n  \(entries)\n", line: line, message: message)
  }

  /// The valid spec with one line replaced (or removed when `with` is empty).
  static func replacing(_ label: String, _ old: String, with new: String, line: Int, message: String) -> MalformedSpec {
    precondition(validSpec.contains(old), "\(label): the base spec has no \(old)")
    return MalformedSpec(
      label: label, yaml: validSpec.replacingOccurrences(of: old, with: new), line: line, message: message)
  }
}

@Suite("Study spec validation")
struct SpecValidationTests {
  @Test("a complete spec parses into every section")
  func parsesEverySection() throws {
    // Given the spec draft of the design, When it is parsed
    let spec = try StudySpec.parse(yaml: validSpec, file: "study.yaml", baseDirectory: "/tmp")

    // Then every section carries what the YAML says
    #expect(spec.name == "spirals-mlp")
    #expect(spec.objective == .init(metric: "val_accuracy", direction: .maximize))
    #expect(spec.search == .init(algorithm: .random, seed: 7, maxTrials: 40, parallelism: 4, startupTrials: nil))
    #expect(spec.space.parameters.map(\.name) == ["lr", "hidden", "dropout", "optimizer", "momentum"])
    #expect(spec.space.parameter(named: "lr")?.domain == .float(min: 1e-4, max: 0.3, log: true, step: nil))
    #expect(spec.space.parameter(named: "hidden")?.domain == .int(min: 8, max: 256, log: true, step: 1))
    #expect(spec.space.parameter(named: "dropout")?.domain == .float(min: 0, max: 0.5, log: false, step: 0.05))
    #expect(spec.space.parameter(named: "momentum")?.logit == false)
    #expect(
      spec.space.parameter(named: "momentum")?.conditions == [
        Condition(parameter: "optimizer", values: [.string("sgd")])
      ])
    #expect(spec.trial.timeout == .seconds(600))
    #expect(spec.trial.workdir == "/tmp")
    #expect(spec.trial.environment == ["PYTHONUNBUFFERED": "1"])
    #expect(spec.trial.retries == 1 && spec.trial.maxFailedTrials == 5 && spec.trial.costPerHour == 1.2)
    #expect(spec.tiers[.quickTest]?["epochs"] == .int(2))
    #expect(spec.tiers[.fullTraining]?["data_fraction"] == .double(1.0))
    #expect(spec.promotion == .init(topK: 1, minValue: 0.8, mode: .afterSearch, margin: 0, maxFullTrainings: 1))
    #expect(spec.earlyStopping == .init(rule: .median(minSteps: 3, minTrials: 5), metric: "val_accuracy"))
    #expect(spec.registration?.conditions.map(\.description) == ["val_accuracy >= 0.95", "latency_ms <= 5.0"])
    #expect(spec.registration?.tier == .fullTraining)
    #expect(spec.tracking == .init(experiment: "spirals-mlp", mlflowURI: "http://127.0.0.1:5000"))
  }

  @Test("a fraction with `logit: true` is sampled on the logit scale")
  func logitScaledFraction() throws {
    // Given momentum as a fraction from 0.5 to 0.999 on the logit scale
    let yaml = validSpec.replacingOccurrences(
      of: "momentum: {type: float, min: 0.0, max: 0.99,",
      with: "momentum: {type: float, min: 0.5, max: 0.999, logit: true,")
    // When the spec is parsed
    let spec = try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: "/tmp")
    // Then the parameter keeps its float range and is logit-scaled: the middle of the unit
    // interval is 0.969 (logit midpoint), not 0.7495 as on a linear scale
    let momentum = try #require(spec.space.parameter(named: "momentum"))
    #expect(momentum.domain == .float(min: 0.5, max: 0.999, log: false, step: nil))
    #expect(momentum.logit)
    let middle = try #require(momentum.value(atUnit: 0.5).numericValue)
    #expect(abs(middle - 0.9693) < 0.001, "\(middle)")
  }

  @Test("parents come before the parameters conditioned on them, whatever the YAML order")
  func ordersConditionalParameters() throws {
    let yaml = validSpec.replacingOccurrences(
      of: "  lr: {type: float, min: 1.0e-4, max: 0.3, log: true}\n",
      with:
        "  beta: {type: float, min: 0, max: 1, when: {optimizer: [adam]}}\n  lr: {type: float, min: 1.0e-4, max: 0.3, log: true}\n"
    )
    let spec = try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: "/tmp")
    let names = spec.space.parameters.map(\.name)
    #expect(names.firstIndex(of: "optimizer")! < names.firstIndex(of: "beta")!)
  }

  static let malformed: [MalformedSpec] = [
    .init(label: "not YAML", yaml: "name: [unclosed\nobjective: {", line: 2, message: "not valid YAML"),
    .init(label: "empty document", yaml: "", line: 1, message: "the spec is empty"),
    .init(label: "a list at the top", yaml: "- a\n- b\n", line: 1, message: "expected a mapping with keys name"),
    .replacing(
      "unknown top-level key", "tracking:\n", with: "trackin:\n", line: 32,
      message: "unknown key 'trackin'; did you mean 'tracking'?"),
    .replacing("missing name", "name: spirals-mlp\n", with: "", line: 1, message: "missing required key 'name'"),
    .replacing(
      "bad study name", "name: spirals-mlp", with: "name: \"my study!\"", line: 1,
      message: "name: expected letters, digits"),
    .replacing(
      "bad direction", "direction: maximize}", with: "direction: maximise}", line: 3,
      message: "objective.direction: expected one of minimize, maximize, found \"maximise\"; did you mean 'maximize'?"),
    .replacing(
      "missing objective metric", "objective: {metric: val_accuracy, direction: maximize}",
      with: "objective: {direction: maximize}", line: 3, message: "objective: missing required key 'metric'"),
    .replacing(
      "unknown algorithm", "algorithm: random", with: "algorithm: bayesian", line: 5,
      message:
        "search.algorithm: expected one of grid, random, quasi_random, bayes, found \"bayesian\"; did you mean 'bayes'?"
    ),
    .replacing(
      "max_trials zero", "max_trials: 40", with: "max_trials: 0", line: 7,
      message: "search.max_trials: expected a whole number of at least 1, found 0"),
    .replacing(
      "max_trials missing for random", "  max_trials: 40\n", with: "", line: 5,
      message: "missing required key 'max_trials' (only grid search may leave it out)"),
    .replacing(
      "parallelism not a number", "parallelism: 4", with: "parallelism: four", line: 8,
      message: "search.parallelism: expected a whole number, found \"four\""),
    .replacing(
      "startup_trials on random", "parallelism: 4\n", with: "parallelism: 4\n  startup_trials: 5\n", line: 9,
      message: "startup_trials applies to bayes search only"),
    .replacing(
      "min not a number", "min: 1.0e-4", with: "min: abc", line: 10,
      message: "parameters.lr.min: expected a number, found \"abc\""),
    .replacing(
      "min above max", "min: 1.0e-4, max: 0.3", with: "min: 0.5, max: 0.3", line: 10,
      message: "parameters.lr.max: max must be greater than min (0.5), found 0.3"),
    .replacing(
      "log with zero min", "min: 1.0e-4, max: 0.3, log: true", with: "min: 0, max: 0.3, log: true", line: 10,
      message: "parameters.lr.min: a log-scaled parameter needs min > 0, found 0.0"),
    .replacing(
      "log not a bool", "max: 0.3, log: true", with: "max: 0.3, log: maybe", line: 10,
      message: "parameters.lr.log: expected true or false, found \"maybe\""),
    .replacing(
      "logit with max 1", "min: 0.0, max: 0.99, when", with: "min: 0.5, max: 1.0, logit: true, when", line: 14,
      message: "parameters.momentum.max: a logit-scaled parameter needs 0 < min < max < 1, found max 1.0"),
    .replacing(
      "logit with min 0", "min: 0.0, max: 0.99, when", with: "min: 0.0, max: 0.99, logit: true, when", line: 14,
      message: "parameters.momentum.min: a logit-scaled parameter needs 0 < min < max < 1, found min 0.0"),
    .replacing(
      "logit with log", "max: 0.3, log: true}", with: "max: 0.3, log: true, logit: true}", line: 10,
      message: "parameters.lr.log: 'log' does not combine with 'logit: true'; use one scale or the other"),
    .replacing(
      "logit with step", "max: 0.5, step: 0.05}", with: "max: 0.5, step: 0.05, logit: true}", line: 12,
      message: "parameters.dropout.step: 'step' does not combine with 'logit: true'"),
    .replacing(
      "logit on an int", "{type: int, min: 8, max: 256, log: true}", with: "{type: int, min: 8, max: 256, logit: true}",
      line: 11, message: "parameters.hidden.logit: 'logit' applies to float parameters only"),
    .replacing(
      "logit on a categorical", "values: [sgd, adam]}", with: "values: [sgd, adam], logit: true}", line: 13,
      message: "parameters.optimizer.logit: 'logit' does not apply to a categorical parameter"),
    .replacing(
      "logit not a bool", "max: 0.99, when", with: "max: 0.99, logit: yes please, when", line: 14,
      message: "parameters.momentum.logit: expected true or false"),
    .replacing(
      "unknown parameter type", "{type: int, min: 8", with: "{type: integer, min: 8", line: 11,
      message: "parameters.hidden.type: expected one of float, int, categorical, found \"integer\"; did you mean 'int'?"
    ),
    .replacing(
      "fractional int bound", "{type: int, min: 8, max: 256", with: "{type: int, min: 8.5, max: 256", line: 11,
      message: "parameters.hidden.min: an int parameter needs a whole number, found 8.5"),
    .replacing(
      "typo in parameter key", "max: 0.5, step: 0.05", with: "max: 0.5, stp: 0.05", line: 12,
      message: "parameters.dropout.stp: unknown key 'stp'; did you mean 'step'?"),
    .replacing(
      "step larger than range", "step: 0.05}", with: "step: 2}", line: 12,
      message: "parameters.dropout.step: step must be positive and at most max - min (0.5), found 2.0"),
    .replacing(
      "categorical without values", "{type: categorical, values: [sgd, adam]}", with: "{type: categorical}", line: 13,
      message: "parameters.optimizer: missing required key 'values' for a categorical parameter"),
    .replacing(
      "duplicate categorical values", "values: [sgd, adam]", with: "values: [sgd, sgd]", line: 13,
      message: "parameters.optimizer.values: values must be distinct"),
    .replacing(
      "min on a categorical", "{type: categorical, values: [sgd, adam]}",
      with: "{type: categorical, min: 1, values: [sgd, adam]}", line: 13,
      message: "parameters.optimizer.min: 'min' does not apply to a categorical parameter"),
    .replacing(
      "condition on unknown parameter", "when: {optimizer: sgd}", with: "when: {optimiser: sgd}", line: 14,
      message: "condition names unknown parameter 'optimiser'; did you mean 'optimizer'?"),
    .replacing(
      "condition value never taken", "when: {optimizer: sgd}", with: "when: {optimizer: rmsprop}", line: 14,
      message: "'optimizer' never takes the value rmsprop, so this condition never holds"),
    .replacing(
      "missing type and values", "{type: float, min: 0.0, max: 0.99,", with: "{min: 0.0, max: 0.99,", line: 14,
      message: "parameters.momentum: missing required key 'type'"),
    .replacing(
      "reserved parameter name", "  hidden: {type: int", with: "  tier: {type: int", line: 11,
      message: "'tier' cannot be a parameter name"),
    .replacing(
      "command not a list",
      "command: [python3, train.py, \"--lr={lr}\", \"--hidden={hidden}\", \"--epochs={tier.epochs}\"]",
      with: "command: python3 train.py", line: 16, message: "trial.command: expected the command as a list of arguments"
    ),
    .replacing(
      "placeholder typo", "\"--hidden={hidden}\"", with: "\"--hidden={hiden}\"", line: 16,
      message: "trial.command[3]: placeholder {hiden} names no parameter; did you mean {hidden}?"),
    .replacing(
      "tier key missing", "quick_test: {epochs: 2, data_fraction: 0.1}", with: "quick_test: {data_fraction: 0.1}",
      line: 16, message: "placeholder {tier.epochs}: tier quick_test has no key 'epochs'"),
    .replacing(
      "bad timeout", "timeout: 10m", with: "timeout: ten minutes", line: 18,
      message: "trial.timeout: expected a positive duration such as 90s, 10m or 1h30m, found \"ten minutes\""),
    .replacing(
      "negative retries", "retries: 1", with: "retries: -1", line: 19,
      message: "trial.retries: expected a whole number of at least 0, found -1"),
    .replacing(
      "workdir that does not exist", "  env: {PYTHONUNBUFFERED: \"1\"}\n",
      with: "  workdir: no/such/dir\n  env: {PYTHONUNBUFFERED: \"1\"}\n", line: 17,
      message: "trial.workdir: no such directory: /tmp/no/such/dir"),
    .replacing(
      "env value is a list", "env: {PYTHONUNBUFFERED: \"1\"}", with: "env: {PYTHONUNBUFFERED: [1]}", line: 17,
      message: "trial.env.PYTHONUNBUFFERED: expected text, found a list"),
    .replacing(
      "unknown tier", "  full_training:", with: "  full_train:", line: 24,
      message: "tiers.full_train: unknown key 'full_train'; did you mean 'full_training'?"),
    .replacing(
      "unknown stopping rule", "rule: median", with: "rule: medain", line: 26,
      message:
        "early_stopping.rule: expected one of asha, hyperband, median, patience, threshold, found \"medain\"; did you mean 'median'?"
    ),
    .replacing(
      "key of another rule", "{rule: median, min_steps: 3, min_trials: 5}", with: "{rule: median, patience: 3}",
      line: 26, message: "early_stopping.patience: unknown key 'patience'"),
    .replacing(
      "pause with a rule that has no rungs", "{rule: median, min_steps: 3, min_trials: 5}",
      with: "{rule: median, pause: true}", line: 26, message: "early_stopping.pause: unknown key 'pause'"),
    .replacing(
      "patience without patience", "{rule: median, min_steps: 3, min_trials: 5}",
      with: "{rule: patience, min_delta: 0.01}", line: 26, message: "missing required key 'patience'"),
    .replacing(
      "registration condition malformed", "\"latency_ms <= 5\"", with: "\"latency_ms is small\"", line: 29,
      message: "registration.when[1]: expected a condition like \"val_accuracy >= 0.95\""),
    .replacing(
      "artifact escapes its folder", "artifact: model.json", with: "artifact: ../../etc/passwd", line: 30,
      message: "registration.artifact: expected a path inside the trial's artifact directory"),
    .replacing(
      "mlflow uri not http", "uri: \"http://127.0.0.1:5000\"", with: "uri: \"127.0.0.1:5000\"", line: 34,
      message: "tracking.mlflow.uri: expected an http(s) URL"),
    .replacing(
      "promotion without full training tier", "  full_training: {epochs: 30, data_fraction: 1.0}\n", with: "", line: 24,
      message: "promotion: promotion launches full-training trials"),
    .replacing(
      "significance out of range", "{top_k: 1, min_value: 0.80}", with: "{top_k: 1, significance: 5}", line: 25,
      message: "promotion.significance: expected a p-value threshold between 0 and 1, such as 0.05"),
    .replacing(
      "significance without repeats to test", "{top_k: 1, min_value: 0.80}",
      with: "{top_k: 1, significance: 0.05, repeats: 1}", line: 25,
      message: "promotion.repeats: significance needs at least 2 repeats of each candidate to test"),
    .replacing(
      "significance in continuous promotion", "{top_k: 1, min_value: 0.80}",
      with: "{top_k: 1, significance: 0.05, mode: continuous}", line: 25,
      message: "promotion.mode: significance weighs the candidates against each other once the search is done"),
    .replacing(
      "fewer candidates than top_k", "{top_k: 1, min_value: 0.80}", with: "{top_k: 2, candidates: 1}", line: 25,
      message: "promotion.candidates: expected at least top_k (2) candidates, found 1"),
    .replacing(
      "zero repeats", "promotion: {top_k: 1", with: "repeats: 0\npromotion: {top_k: 1", line: 25,
      message: "repeats: expected a whole number of at least 1, found 0"),
    .replacing(
      "repeats of an unknown tier", "promotion: {top_k: 1",
      with: "repeats: {quick: 2}\npromotion: {top_k: 1", line: 25,
      message: "repeats.quick: unknown key 'quick'; did you mean 'quick_test'?"),
    .enqueueing(
      "a queued value outside its range", "- {lr: 0.5}",
      message: "search.enqueue[0].lr: expected a number from 0.0001 to 0.3, found 0.5"),
    .enqueueing(
      "a queued parameter the space lacks", "- {lrr: 0.01}",
      message: "search.enqueue[0].lrr: unknown parameter 'lrr'; did you mean 'lr'?"),
    .enqueueing(
      "a queued category the space lacks", "- {lr: 0.01}\n  - {optimizer: rmsprop}", line: 11,
      message: "search.enqueue[1].optimizer: expected one of sgd, adam, found \"rmsprop\""),
    .enqueueing(
      "a queued conditional parameter its parent rules out", "- {optimizer: adam, momentum: 0.9}",
      message: "search.enqueue[0].momentum: 'momentum' applies only when optimizer in [sgd]"),
    .enqueueing(
      "a queued configuration twice", "- {lr: 0.01, hidden: 32}\n  - {hidden: 32.0, lr: 0.01}", line: 11,
      message: "search.enqueue[1]: the same configuration as search.enqueue[0]"),
    .replacing(
      "more queued configurations than the budget", "max_trials: 40\n  parallelism: 4\n",
      with: "max_trials: 1\n  parallelism: 4\n  enqueue: [{lr: 0.01}, {lr: 0.02}]\n", line: 9,
      message: "search.enqueue: 2 configurations are queued but search.max_trials is 1"),
    .replacing(
      "a warm start without a study", "parallelism: 4\n", with: "parallelism: 4\n  warm_start: {from: old}\n",
      line: 9, message: "search.warm_start.from: unknown key 'from'"),
    .replacing(
      "one objective in objectives", "objective: {metric: val_accuracy, direction: maximize}",
      with: "objectives: [{metric: val_accuracy, direction: maximize}]", line: 3,
      message: "objectives: expected at least 2 objectives; for one, write objective:"),
    .replacing(
      "an objective twice", "objective: {metric: val_accuracy, direction: maximize}",
      with: "objectives:\n- {metric: val_accuracy, direction: maximize}\n- {metric: val_accuracy, direction: minimize}",
      line: 5, message: "objectives[1].metric: val_accuracy is already an objective"),
    .replacing(
      "objective and objectives", "objective: {metric: val_accuracy, direction: maximize}",
      with:
        "objective: {metric: val_accuracy, direction: maximize}\nobjectives: [{metric: a, direction: maximize}, {metric: b, direction: minimize}]",
      line: 4, message: "objectives: give either objective (one) or objectives (several), not both"),
    .replacing(
      "an objective without a direction", "objective: {metric: val_accuracy, direction: maximize}",
      with: "objectives: [{metric: val_accuracy, direction: maximize}, {metric: latency_ms}]", line: 3,
      message: "objectives[1]: missing required key 'direction'"),
    .replacing(
      "a constraint that is not an inequality", "objective: {metric: val_accuracy, direction: maximize}",
      with: "objective: {metric: val_accuracy, direction: maximize}\nconstraints: [\"latency_ms == 5\"]", line: 4,
      message: "constraints[0]: expected an inequality like \"latency_ms <= 5\""),
    .init(
      label: "a front pick by a metric that is no objective",
      yaml: validSpec.replacingOccurrences(
        of: "objective: {metric: val_accuracy, direction: maximize}",
        with: "objectives: [{metric: val_accuracy, direction: maximize}, {metric: latency_ms, direction: minimize}]"
      ).replacingOccurrences(of: "{top_k: 1, min_value: 0.80}", with: "{top_k: 1, pick: {best: accuracy}}"),
      line: 25, message: "promotion.pick.best: accuracy is not an objective (objectives: val_accuracy, latency_ms)"),
    .init(
      label: "significance along a front",
      yaml: validSpec.replacingOccurrences(
        of: "objective: {metric: val_accuracy, direction: maximize}",
        with: "objectives: [{metric: val_accuracy, direction: maximize}, {metric: latency_ms, direction: minimize}]"
      ).replacingOccurrences(of: "{top_k: 1, min_value: 0.80}", with: "{top_k: 1, significance: 0.05}"),
      line: 25,
      message: "promotion.significance: with several objectives promotion picks from the quick tests' Pareto front"),
    .replacing(
      "pick with one objective", "{top_k: 1, min_value: 0.80}", with: "{top_k: 1, pick: knee}", line: 25,
      message: "promotion.pick: pick orders a Pareto front: it needs several objectives"),
    .replacing(
      "an unknown pick", "{top_k: 1, min_value: 0.80}", with: "{top_k: 1, pick: middle}", line: 25,
      message: "promotion.pick: expected hypervolume, knee or {best: METRIC"),
    .replacing(
      "median stopping with several objectives", "objective: {metric: val_accuracy, direction: maximize}\n",
      with:
        "objectives: [{metric: val_accuracy, direction: maximize}, {metric: latency_ms, direction: minimize}]\n",
      line: 26, message: "early_stopping.rule: with several objectives only asha can stop trials"),
    .replacing(
      "grid over a continuous parameter", "algorithm: random", with: "algorithm: grid", line: 5,
      message: "search.algorithm: grid search needs the values of continuous parameter 'lr'"),
    .replacing(
      "grid value outside the bounds", "{type: float, min: 1.0e-4, max: 0.3, log: true}",
      with: "{type: float, min: 1.0e-4, max: 0.3, log: true, values: [0.01, 0.5]}", line: 10,
      message: "parameters.lr.values[1]: grid value 0.5 is outside [0.0001, 0.3]"),
    .replacing(
      "a negative promotion margin", "{top_k: 1, min_value: 0.80}", with: "{top_k: 1, margin: -0.1}", line: 25,
      message: "promotion.margin: expected a margin of 0 or more"),
    .replacing(
      "contradictory constraints", "promotion: {top_k: 1, min_value: 0.80}\n",
      with: "promotion: {top_k: 1, min_value: 0.80}\nconstraints: [\"latency_ms >= 10\", \"latency_ms < 10\"]\n",
      line: 26,
      message: "constraints[1]: no value of latency_ms can meet both \"latency_ms >= 10\" and \"latency_ms < 10\""),
    .replacing(
      "a NUL in the objective's metric", "objective: {metric: val_accuracy,",
      with: "objective: {metric: \"val\\0acc\",",
      line: 3, message: "objective.metric: expected text without a NUL character"),
    .replacing(
      "a control character in the objective's metric", "objective: {metric: val_accuracy,",
      with: "objective: {metric: \"val\\x01acc\",",
      line: 3, message: "objective.metric: a metric's name cannot contain control characters"),
    .replacing(
      "a NUL in the early-stopping metric", "{rule: median, min_steps: 3, min_trials: 5}",
      with: "{rule: median, metric: \"lo\\0ss\", min_steps: 3, min_trials: 5}", line: 26,
      message: "early_stopping.metric: expected text without a NUL character"),
    .replacing(
      "fail_fast that is not a boolean", "  cost_per_hour: 1.20\n",
      with: "  cost_per_hour: 1.20\n  fail_fast: sometimes\n",
      line: 22, message: "trial.fail_fast:"),
    .init(label: "duplicate key", yaml: "name: a\nname: b\n", line: 1, message: "duplicate key(s) name"),
    .init(
      label: "alias bomb",
      yaml: """
        a: &a [x, x, x, x, x, x, x, x, x, x]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
        """, line: 1, message: "expands to more than 20000 values"),
  ]

  @Test("each malformed spec names file:line, the key path and what was expected", arguments: malformed)
  func reportsMalformedSpec(_ example: MalformedSpec) {
    // Given a spec with one problem, When it is parsed
    do {
      _ = try StudySpec.parse(yaml: example.yaml, file: "study.yaml", baseDirectory: "/tmp")
      Issue.record("\(example.label): the spec was accepted")
    } catch {
      // Then one issue says what is wrong, where
      let match = error.issues.first { $0.description.contains(example.message) }
      #expect(match != nil, "\(example.label): no issue says «\(example.message)»; got:\n\(error)")
      #expect(match?.line == example.line, "\(example.label): reported on line \(match?.line ?? -1)")
      #expect(match?.description.hasPrefix("study.yaml:\(example.line):") == true)
    }
  }

  @Test("every problem of a spec is reported in one pass")
  func reportsAllProblemsAtOnce() {
    let yaml =
      validSpec
      .replacingOccurrences(of: "direction: maximize", with: "direction: up")
      .replacingOccurrences(of: "min: 1.0e-4", with: "min: low")
      .replacingOccurrences(of: "timeout: 10m", with: "timeout: soon")
    do {
      _ = try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: "/tmp")
      Issue.record("accepted")
    } catch {
      #expect(error.issues.map(\.path) == ["objective.direction", "parameters.lr.min", "trial.timeout"])
      #expect(error.description.hasPrefix("invalid study spec (3 problems):"))
    }
  }

  @Test("a spec without a tracking server takes MLFLOW_TRACKING_URI from the environment it is given")
  func trackingFromEnvironment() throws {
    let yaml = """
      name: env
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, max_trials: 2}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [python3, train.py, "{x}"]}
      """
    let given = try StudySpec.parse(
      yaml: yaml, file: "study.yaml", baseDirectory: "/tmp", environment: ["MLFLOW_TRACKING_URI": "http://mlflow:5000"])
    #expect(given.tracking.mlflowURI == "http://mlflow:5000")
    let none = try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: "/tmp", environment: [:])
    #expect(none.tracking.mlflowURI == nil)
  }
}

@Suite("executor: and resources: in the spec")
struct ExecutorSpecTests {
  func parse(_ extra: String) throws -> StudySpec {
    try StudySpec.parse(yaml: validSpec + "\n" + extra, file: "study.yaml", baseDirectory: "/tmp")
  }

  func problems(_ extra: String) -> String {
    do {
      _ = try parse(extra)
      return ""
    } catch {
      return "\(error)"
    }
  }

  @Test("Slurm settings per study and per tier, and resources per tier")
  func parsesSlurmAndResources() throws {
    let spec = try parse(
      """
      executor:
        kind: slurm
        partition: gpu
        time: "2:00:00"
        mem: 16G
        extra_args: ["--nodelist=node1", "--mem-bind=local", "--time-min=10"]
        shared_folder: /tmp
        full_training: {time: "1-00:00:00", gres: "gpu:a100:2,shard:4", mem: "0"}
      resources: {gpus: 1, cpus: 2, full_training: {gpus: 2}}
      """)
    guard case .slurm(let study, let perTier) = spec.executor else {
      Issue.record("expected a Slurm executor")
      return
    }
    #expect(study.partition == "gpu" && study.time == "2:00:00" && study.mem == "16G")
    #expect(study.extraArguments == ["--nodelist=node1", "--mem-bind=local", "--time-min=10"])
    #expect(study.sharedFolder == "/tmp")
    #expect(perTier[.fullTraining]?.mem == "0", "0 asks Slurm for all of a node's memory")
    #expect(perTier[.fullTraining]?.time == "1-00:00:00" && perTier[.fullTraining]?.gres == "gpu:a100:2,shard:4")
    #expect(perTier[.fullTraining]?.partition == "gpu", "a tier's settings start from the study's")
    #expect(spec.resources(for: .quickTest) == .init(gpus: 1, cpus: 2))
    #expect(spec.resources(for: .fullTraining) == .init(gpus: 2, cpus: 2))
  }

  @Test(
    "bad executor and resources sections are reported where they are, with what was expected",
    arguments: [
      ("executor: {kind: slurm, extra_args: [\"--output=x\"]}", "executor.extra_args[0]: --output is set by hpod"),
      ("executor: {kind: slurm, extra_args: [\"-pdebug\"]}", "-p is set by hpod: use executor.partition"),
      ("executor: {kind: slurm, time: \"ten minutes\"}", "expected a Slurm time limit"),
      ("executor: {kind: slurm, mem: 4 GB}", "expected memory per node such as 4000 (MB), 4G or 1T"),
      ("executor: {kind: slurm, poll_interval: 10ms}", "expected at least 100ms"),
      ("executor: {kind: slurm, shared_folder: runs}", "expected an absolute path"),
      // Settings that validated but could never work (issue 31).
      (
        "executor: {kind: slurm, gres: \"gpu:-1\"}",
        "executor.gres: the count in \"gpu:-1\" must be a whole number from 1"
      ),
      ("executor: {kind: slurm, gres: \"gpu:a100:0\"}", "must be a whole number from 1 to 100000"),
      (
        "executor: {kind: slurm, mem: 99999999999999999999T}",
        "executor.mem: 99999999999999999999T is more memory than any node has"
      ),
      ("executor: {kind: slurm, mem: 17T}", "is more memory than any node has (at most 16T)"),
      (
        "executor: {kind: slurm, extra_args: [\"--hold\"]}",
        "executor.extra_args[0]: --hold cannot work under hpod: a held job never starts on its own"
      ),
      ("executor: {kind: slurm, extra_args: [\"-H\"]}", "-H cannot work under hpod: a held job never starts"),
      ("executor: {kind: slurm, extra_args: [\"--hol\"]}", "--hol is sbatch's abbreviation of --hold"),
      ("executor: {kind: slurm, extra_args: [\"--wrap=sleep 1\"]}", "--wrap is set by hpod: hpod runs trial.command"),
      ("executor: {kind: slurm, extra_args: [\"--job-name=x\"]}", "--job-name is set by hpod"),
      ("executor: {kind: slurm, extra_args: [\"--parsable\"]}", "--parsable is set by hpod"),
      ("executor: {kind: slurm, extra_args: [\"--out=x\"]}", "--out is sbatch's abbreviation of --output"),
      ("executor: {kind: slurm, extra_args: [\"--test-only\"]}", "submit nothing"),
      ("executor: {kind: slurm, extra_args: [\"--clusters=other\"]}", "the cluster SLURM_CONF names"),
      (
        "executor: {kind: slurm, shared_folder: /proc}",
        "executor.shared_folder: hpod cannot create the trials' folders in /proc"
      ),
      ("executor: {kind: slurm, shared_folder: /etc/hostname}", "/etc/hostname is not a directory"),
      ("executor: {kind: slurm, shared_folder: /nonexistent/hpod}", "no such directory: /nonexistent/hpod"),
      ("executor: {kind: slurm, full_training: {gres: \"gpu:-2\"}}", "executor.full_training.gres: the count"),
      ("executor: {kind: slurn}", "did you mean 'slurm'?"),
      ("executor: {partition: debug}", "'partition' applies to `kind: slurm` only"),
      ("executor: {kind: slurm, partiton: debug}", "did you mean 'partition'?"),
      ("resources: {gpus: -1}", "resources.gpus: expected a whole number of at least 0"),
      ("resources: {gpus: 1.5}", "resources.gpus: expected a whole number"),
    ])
  func reportsProblems(extra: String, message: String) {
    let text = problems(extra)
    #expect(text.contains(message), "\(text)")
    let line = validSpec.split(separator: "\n", omittingEmptySubsequences: false).count + 1
    #expect(text.contains("study.yaml:\(line):"), "the problem should be located on its line: \(text)")
  }
}
