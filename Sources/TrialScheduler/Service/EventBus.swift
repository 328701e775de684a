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

/// One subscriber's queue of server-sent events, ready to write. When `capacity` events wait
/// unsent, newer ones are dropped and counted; the next event the reader gets is preceded by
/// `event: lagged` with the number it missed (`{"dropped": N}`), so it can reload what it shows.
public final class EventSubscription: AsyncSequence, Sendable {
  public typealias Element = String

  /// Events a reader may fall behind by before it misses some: minutes of a chatty study for
  /// a reader that merely pauses; about a megabyte, shared with the other readers, for one
  /// that has stopped.
  public static let capacity = 4096

  private let stream: AsyncStream<String>
  private let continuation: AsyncStream<String>.Continuation
  private let dropped = Mutex(0)

  init(capacity: Int, onTermination: @escaping @Sendable () -> Void) {
    (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(capacity))
    continuation.onTermination = { _ in onTermination() }
  }

  /// Queues one event's text; counts it as dropped when the queue is full.
  func offer(_ text: String) {
    if case .dropped = continuation.yield(text) { dropped.withLock { $0 += 1 } }
  }

  /// Queues an SSE comment that keeps the connection open (and notices a reader gone).
  public func keepAlive() { offer(": keep-alive\n\n") }

  /// Ends the stream: the reader gets what is queued, then the end.
  public func finish() { continuation.finish() }

  /// Events missed since the last call.
  func takeDropped() -> Int {
    dropped.withLock { count in
      defer { count = 0 }; return count
    }
  }

  public func makeAsyncIterator() -> Iterator { Iterator(base: stream.makeAsyncIterator(), subscription: self) }

  public struct Iterator: AsyncIteratorProtocol {
    var base: AsyncStream<String>.AsyncIterator
    let subscription: EventSubscription
    var held: String?

    public mutating func next() async -> String? {
      if let held {
        self.held = nil
        return held
      }
      guard let text = await base.next() else { return nil }
      let missed = subscription.takeDropped()
      guard missed > 0 else { return text }
      held = text
      return "event: lagged\ndata: {\"dropped\":\(missed)}\n\n"
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
