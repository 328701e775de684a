public import Foundation
import Synchronization
public import TrackingBridge

/// Fans study events out to subscribers (server-sent event streams). A slow subscriber keeps
/// only the newest events, so it can never make the daemon hold unbounded memory.
public final class EventBus: Sendable {
  private struct Subscriber {
    var studyId: Int64?
    var continuation: AsyncStream<API.Event>.Continuation
  }

  private let subscribers = Mutex<[UUID: Subscriber]>([:])

  public init() {}

  /// Events of one study, or of all studies when `studyId` is nil.
  public func subscribe(studyId: Int64?) -> AsyncStream<API.Event> {
    let id = UUID()
    let (stream, continuation) = AsyncStream.makeStream(of: API.Event.self, bufferingPolicy: .bufferingNewest(1000))
    continuation.onTermination = { [weak self] _ in
      _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
    }
    subscribers.withLock { $0[id] = Subscriber(studyId: studyId, continuation: continuation) }
    return stream
  }

  public func publish(_ event: StudyEvent, studyId: Int64) {
    let targets = subscribers.withLock { subscribers in
      subscribers.values.filter { $0.studyId == nil || $0.studyId == studyId }.map(\.continuation)
    }
    guard !targets.isEmpty else { return }
    let payload = API.Event(event, studyId: studyId)
    targets.forEach { $0.yield(payload) }
  }
}

extension API.Event {
  public init(_ event: StudyEvent, studyId: Int64) {
    var data: [String: JSONValue] = ["study_id": .number(Double(studyId))]
    switch event {
    case .studyStarted(let study, let kept, let reruns):
      type = "study_started"
      data["study"] = JSONValue(encoding: API.Study(study, spec: nil, summary: nil))
      data["kept_trials"] = .number(Double(kept))
      data["rerun_trials"] = .number(Double(reruns))
    case .trialStarted(let trial):
      type = "trial_started"
      data["trial"] = JSONValue(encoding: API.Trial(trial))
    case .trialMetrics(let trialId, let number, let step, let values):
      type = "trial_metrics"
      data["trial_id"] = .number(Double(trialId))
      data["number"] = .number(Double(number))
      data["step"] = .number(Double(step))
      data["values"] = .object(values.mapValues { .number($0) })
    case .trialFinished(let trial):
      type = trial.state == .pruned ? "trial_pruned" : "trial_finished"
      data["trial"] = JSONValue(encoding: API.Trial(trial))
    case .trialPromoted(let quickTest, let fullTraining):
      type = "trial_promoted"
      data["quick_test"] = JSONValue(encoding: API.Trial(quickTest))
      data["full_training"] = JSONValue(encoding: API.Trial(fullTraining))
    case .modelRegistered(let version, let trial):
      type = "model_registered"
      data["model"] = .string(version.modelName)
      data["version"] = .number(Double(version.version))
      data["conditions"] = .string(version.conditions)
      data["trial"] = JSONValue(encoding: API.Trial(trial))
    case .registrationSkipped(let trial, let reason):
      type = "registration_skipped"
      data["trial"] = JSONValue(encoding: API.Trial(trial))
      data["reason"] = .string(reason)
    case .studyFinished(let study):
      type = "study_finished"
      data["study"] = JSONValue(encoding: API.Study(study, spec: nil, summary: nil))
    }
    self.studyId = studyId
    self.data = data
  }

  /// The event as server-sent-event text.
  public var serverSentEvent: String {
    let json = (try? String(decoding: API.encoder.encode(data), as: UTF8.self)) ?? "{}"
    return "event: \(type)\ndata: \(json)\n\n"
  }
}
