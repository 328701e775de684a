public import Foundation
import Synchronization
public import TrackingBridge

/// Fans study events out to subscribers (server-sent event streams). Each event is encoded
/// once and the same text is shared by every subscriber, and each subscriber holds at most
/// `EventSubscription.capacity` of them: one that stops reading costs the daemon a bounded
/// amount of memory, and learns what it missed from a `lagged` event.
public final class EventBus: Sendable {
  private struct Subscriber {
    var studyId: Int64?
    var subscription: EventSubscription
  }

  private let subscribers = Mutex<[UUID: Subscriber]>([:])

  public init() {}

  /// Events of one study, or of all studies when `studyId` is nil.
  public func subscribe(studyId: Int64?, capacity: Int = EventSubscription.capacity) -> EventSubscription {
    let id = UUID()
    let subscription = EventSubscription(capacity: capacity) { [weak self] in
      _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
    }
    subscribers.withLock { $0[id] = Subscriber(studyId: studyId, subscription: subscription) }
    return subscription
  }

  public var subscriberCount: Int { subscribers.withLock { $0.count } }

  public func publish(_ event: StudyEvent, studyId: Int64) {
    let targets = subscribers.withLock { subscribers in
      subscribers.values.filter { $0.studyId == nil || $0.studyId == studyId }.map(\.subscription)
    }
    guard !targets.isEmpty else { return }
    let text = API.Event(event, studyId: studyId).serverSentEvent
    targets.forEach { $0.offer(text) }
  }
}

/// One subscriber's queue of server-sent events, ready to write. A reader takes everything
/// queued at once (`next()`), so one that falls behind catches up in a few large writes
/// instead of one per event. When `capacity` events wait unsent, newer ones are dropped and
/// counted; the next batch the reader gets starts with `event: lagged` and the number it
/// missed (`{"dropped": N}`), so it can reload what it shows.
public final class EventSubscription: Sendable {
  /// Events a reader may fall behind by before it misses some: minutes of a chatty study for
  /// a reader that merely pauses; about a megabyte, shared with the other readers, for one
  /// that has stopped.
  public static let capacity = 4096

  private struct State {
    var queue: [String] = []
    var dropped = 0
    var finished = false
    var waiter: CheckedContinuation<[String]?, Never>?
  }

  private let capacity: Int
  private let state = Mutex(State())
  private let onFinish: @Sendable () -> Void

  init(capacity: Int, onFinish: @escaping @Sendable () -> Void) {
    self.capacity = capacity
    self.onFinish = onFinish
  }

  /// Queues one event's text, or counts it as dropped when the queue is full.
  func offer(_ text: String) {
    let waiter: CheckedContinuation<[String]?, Never>? = state.withLock { state in
      guard !state.finished else { return nil }
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter
      }
      if state.queue.count >= capacity {
        state.dropped += 1
      } else {
        state.queue.append(text)
      }
      return nil
    }
    waiter?.resume(returning: [text])
  }

  /// Queues one event for this subscriber alone (a finished study's `study_finished` for a
  /// reader that came after the end).
  public func deliver(_ event: StudyEvent, studyId: Int64) { offer(API.Event(event, studyId: studyId).serverSentEvent) }

  /// Queues an SSE comment that keeps the connection open (and notices a reader gone).
  public func keepAlive() { offer(": keep-alive\n\n") }

  /// Ends the subscription: the reader gets what is queued, then nil.
  public func finish() {
    let (first, waiter) = state.withLock { state -> (Bool, CheckedContinuation<[String]?, Never>?) in
      guard !state.finished else { return (false, nil) }
      state.finished = true
      defer { state.waiter = nil }
      return (true, state.waiter)
    }
    guard first else { return }
    waiter?.resume(returning: nil)
    onFinish()
  }

  /// Everything queued (at least one event, waiting for it if need be), or nil once finished.
  /// One reader at a time.
  public func next() async -> [String]? {
    await withCheckedContinuation { continuation in
      let ready: [String]?? = state.withLock { state in
        var batch: [String] = []
        if state.dropped > 0 {
          batch.append("event: lagged\ndata: {\"dropped\":\(state.dropped)}\n\n")
          state.dropped = 0
        }
        batch += state.queue
        state.queue.removeAll(keepingCapacity: true)
        if !batch.isEmpty { return .some(batch) }
        if state.finished { return .some(nil) }
        state.waiter = continuation
        return nil
      }
      if let ready { continuation.resume(returning: ready) }
    }
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
    case .studyPaused(let reason):
      type = "study_paused"
      data["reason"] = .string(reason)
    case .studyResumed(let reason):
      type = "study_resumed"
      data["paused_for"] = .string(reason)
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
