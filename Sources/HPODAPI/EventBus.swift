public import Foundation
import Synchronization
public import TrackingBridge
public import TrialScheduler

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
          batch.append(API.Event(studyId: nil, body: .lagged(dropped: state.dropped)).serverSentEvent)
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
