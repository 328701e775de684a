public import Foundation
public import TrialScheduler

extension API {
  /// One event of a study's stream, typed: the server encodes it once for every reader, the
  /// client decodes it back into the same cases. On the wire it is `event: <type>` and
  /// `data: <JSON object>` with `study_id` and the case's fields (docs/API.md, Events).
  public struct Event: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
      case studyStarted(study: Study, keptTrials: Int, rerunTrials: Int)
      /// The search starts from `observations` finished configurations of another study
      /// (`search.warm_start`); `outsideSpace` more lay outside this study's space.
      case warmStarted(sourceStudyId: Int64, sourceStudy: String, observations: Int, outsideSpace: Int)
      case trialStarted(Trial)
      case trialMetrics(trialId: Int64, number: Int, step: Int, values: [String: Double])
      /// Why a trial waits (a Slurm job held in its queue, a controller that does not answer);
      /// `reason` nil: it no longer waits.
      case trialWaiting(trialId: Int64, number: Int, reason: String?)
      /// Completed, failed, timed out or cancelled.
      case trialFinished(Trial)
      /// Stopped early by the study's rule; its `reason` says which rule, step and why.
      case trialPruned(Trial)
      case trialPromoted(quickTest: Trial, fullTraining: Trial)
      /// A quick test weighed for promotion by the significance of its repeats.
      case promotionJudged(Trial, promoted: Bool, reason: String)
      case modelRegistered(model: String, version: Int, conditions: String, trial: Trial)
      case registrationSkipped(Trial, reason: String)
      case studyPaused(reason: String)
      case studyResumed(pausedFor: String)
      case studyWarning(message: String)
      case studyFinished(Study)
      /// This reader fell behind and missed `dropped` newer events (no study id).
      case lagged(dropped: Int)
    }

    /// Nil for `lagged`, which is about the stream rather than one study.
    public var studyId: Int64?
    public var body: Body

    public init(studyId: Int64?, body: Body) {
      self.studyId = studyId
      self.body = body
    }

    /// The scheduler's event in the API's shapes.
    public init(_ event: StudyEvent, studyId: Int64) {
      self.init(studyId: studyId, body: Body(event))
    }

    /// The SSE `event:` name.
    public var type: String {
      switch body {
      case .studyStarted: "study_started"
      case .warmStarted: "warm_started"
      case .trialStarted: "trial_started"
      case .trialMetrics: "trial_metrics"
      case .trialWaiting: "trial_waiting"
      case .trialFinished: "trial_finished"
      case .trialPruned: "trial_pruned"
      case .trialPromoted: "trial_promoted"
      case .promotionJudged: "promotion_judged"
      case .modelRegistered: "model_registered"
      case .registrationSkipped: "registration_skipped"
      case .studyPaused: "study_paused"
      case .studyResumed: "study_resumed"
      case .studyWarning: "study_warning"
      case .studyFinished: "study_finished"
      case .lagged: "lagged"
      }
    }

    /// The event's `data:` object.
    public var data: Data {
      (try? API.encoder.encode(Fields(self))) ?? Data("{}".utf8)
    }

    /// The event as server-sent-event text.
    public var serverSentEvent: String {
      "event: \(type)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
    }

    /// The event as one line of JSON with its `type` first, as `hpod run --json` and
    /// `hpod watch --json` print it.
    public var jsonLine: String { Self.jsonLine(type: type, data: data) }

    /// A stream's `type` and `data` object as one JSON line: `{"type":"…",…the data's fields}`.
    public static func jsonLine(type: String, data: Data) -> String {
      let fields = String(decoding: data, as: UTF8.self)
      return "{\"type\":\"\(type)\"" + (fields.count > 2 ? "," + fields.dropFirst() : "}")
    }

    /// The event a stream sent as `type` and `data`; nil for a type this client does not
    /// know (a newer server's), which a reader skips.
    public init?(type: String, data: Data) throws {
      let fields = try API.decoder.decode(Fields.self, from: data)
      guard let body = try fields.body(type: type) else { return nil }
      self.init(studyId: fields.studyId, body: body)
    }
  }
}

extension API.Event.Body {
  /// The scheduler's event in the API's shapes.
  public init(_ event: StudyEvent) {
    switch event {
    case .studyStarted(let study, let kept, let reruns):
      self = .studyStarted(study: API.Study(study, spec: nil, summary: nil), keptTrials: kept, rerunTrials: reruns)
    case .warmStarted(let history):
      self = .warmStarted(
        sourceStudyId: history.source.id ?? 0, sourceStudy: history.source.name,
        observations: history.observations.count, outsideSpace: history.outsideSpace)
    case .trialStarted(let trial): self = .trialStarted(API.Trial(trial))
    case .trialMetrics(let trialId, let number, let step, let values):
      self = .trialMetrics(trialId: trialId, number: number, step: step, values: values)
    case .trialWaiting(let trialId, let number, let reason):
      self = .trialWaiting(trialId: trialId, number: number, reason: reason)
    case .trialFinished(let trial):
      self = trial.state == .pruned ? .trialPruned(API.Trial(trial)) : .trialFinished(API.Trial(trial))
    case .trialPromoted(let quickTest, let fullTraining):
      self = .trialPromoted(quickTest: API.Trial(quickTest), fullTraining: API.Trial(fullTraining))
    case .promotionJudged(let trial, let promoted, let reason):
      self = .promotionJudged(API.Trial(trial), promoted: promoted, reason: reason)
    case .modelRegistered(let version, let trial):
      self = .modelRegistered(
        model: version.modelName, version: version.version, conditions: version.conditions, trial: API.Trial(trial))
    case .registrationSkipped(let trial, let reason): self = .registrationSkipped(API.Trial(trial), reason: reason)
    case .studyPaused(let reason): self = .studyPaused(reason: reason)
    case .studyResumed(let reason): self = .studyResumed(pausedFor: reason)
    case .studyWarning(let message): self = .studyWarning(message: message)
    case .studyFinished(let study, let summary): self = .studyFinished(API.Study(study, spec: nil, summary: summary))
    }
  }
}

/// Every field any event has, each optional: one object to encode from and decode into.
private struct Fields: Codable {
  var studyId: Int64?
  var study: API.Study?
  var keptTrials: Int?
  var rerunTrials: Int?
  var trial: API.Trial?
  var trialId: Int64?
  var number: Int?
  var step: Int?
  var values: [String: Double]?
  var quickTest: API.Trial?
  var fullTraining: API.Trial?
  var model: String?
  var version: Int?
  var conditions: String?
  var reason: String?
  var promoted: Bool?
  var pausedFor: String?
  var message: String?
  var dropped: Int?
  var sourceStudyId: Int64?
  var sourceStudy: String?
  var observations: Int?
  var outsideSpace: Int?

  enum CodingKeys: String, CodingKey {
    case studyId = "study_id"
    case study
    case keptTrials = "kept_trials"
    case rerunTrials = "rerun_trials"
    case trial
    case trialId = "trial_id"
    case number, step, values
    case quickTest = "quick_test"
    case fullTraining = "full_training"
    case model, version, conditions, reason, promoted
    case pausedFor = "paused_for"
    case message
    case dropped
    case sourceStudyId = "source_study_id"
    case sourceStudy = "source_study"
    case observations
    case outsideSpace = "outside_space"
  }

  init(_ event: API.Event) {
    studyId = event.studyId
    switch event.body {
    case .studyStarted(let study, let kept, let reruns):
      self.study = study
      keptTrials = kept
      rerunTrials = reruns
    case .warmStarted(let sourceStudyId, let sourceStudy, let observations, let outsideSpace):
      self.sourceStudyId = sourceStudyId
      self.sourceStudy = sourceStudy
      self.observations = observations
      self.outsideSpace = outsideSpace
    case .trialStarted(let trial), .trialFinished(let trial), .trialPruned(let trial): self.trial = trial
    case .trialMetrics(let trialId, let number, let step, let values):
      self.trialId = trialId
      self.number = number
      self.step = step
      self.values = values
    case .trialWaiting(let trialId, let number, let reason):
      self.trialId = trialId
      self.number = number
      self.reason = reason
    case .trialPromoted(let quickTest, let fullTraining):
      self.quickTest = quickTest
      self.fullTraining = fullTraining
    case .modelRegistered(let model, let version, let conditions, let trial):
      self.model = model
      self.version = version
      self.conditions = conditions
      self.trial = trial
    case .registrationSkipped(let trial, let reason):
      self.trial = trial
      self.reason = reason
    case .promotionJudged(let trial, let promoted, let reason):
      self.trial = trial
      self.promoted = promoted
      self.reason = reason
    case .studyPaused(let reason): self.reason = reason
    case .studyResumed(let pausedFor): self.pausedFor = pausedFor
    case .studyWarning(let message): self.message = message
    case .studyFinished(let study): self.study = study
    case .lagged(let dropped): self.dropped = dropped
    }
  }

  /// The case `type` names, with the fields it needs; a known type missing one is an error.
  func body(type: String) throws -> API.Event.Body? {
    func need<T>(_ value: T?, _ key: CodingKeys) throws -> T {
      guard let value else {
        throw DecodingError.keyNotFound(
          key, .init(codingPath: [], debugDescription: "a \(type) event needs \"\(key.rawValue)\""))
      }
      return value
    }
    switch type {
    case "study_started":
      return .studyStarted(
        study: try need(study, .study), keptTrials: keptTrials ?? 0, rerunTrials: rerunTrials ?? 0)
    case "warm_started":
      return .warmStarted(
        sourceStudyId: try need(sourceStudyId, .sourceStudyId), sourceStudy: try need(sourceStudy, .sourceStudy),
        observations: try need(observations, .observations), outsideSpace: outsideSpace ?? 0)
    case "trial_started": return .trialStarted(try need(trial, .trial))
    case "trial_metrics":
      return .trialMetrics(
        trialId: try need(trialId, .trialId), number: try need(number, .number), step: try need(step, .step),
        values: try need(values, .values))
    case "trial_waiting":
      return .trialWaiting(trialId: try need(trialId, .trialId), number: try need(number, .number), reason: reason)
    case "trial_finished": return .trialFinished(try need(trial, .trial))
    case "trial_pruned": return .trialPruned(try need(trial, .trial))
    case "trial_promoted":
      return .trialPromoted(
        quickTest: try need(quickTest, .quickTest), fullTraining: try need(fullTraining, .fullTraining))
    case "model_registered":
      return .modelRegistered(
        model: try need(model, .model), version: try need(version, .version), conditions: conditions ?? "",
        trial: try need(trial, .trial))
    case "promotion_judged":
      return .promotionJudged(
        try need(trial, .trial), promoted: try need(promoted, .promoted), reason: try need(reason, .reason))
    case "registration_skipped": return .registrationSkipped(try need(trial, .trial), reason: try need(reason, .reason))
    case "study_paused": return .studyPaused(reason: try need(reason, .reason))
    case "study_resumed": return .studyResumed(pausedFor: try need(pausedFor, .pausedFor))
    case "study_warning": return .studyWarning(message: try need(message, .message))
    case "study_finished": return .studyFinished(try need(study, .study))
    case "lagged": return .lagged(dropped: try need(dropped, .dropped))
    default: return nil
    }
  }
}
