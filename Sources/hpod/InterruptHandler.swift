import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// Turns SIGINT, SIGTERM and SIGHUP into calls of `handler` with the signal and how many have
/// arrived so far, instead of killing hpod, so running trials can be stopped and the study
/// saved. A SIGHUP hpod was started to ignore (`nohup hpod run ...`) stays ignored.
final class InterruptHandler {
  private let sources: [any DispatchSourceSignal]
  private let signals: [Int32]

  init(_ handler: @escaping @Sendable (_ signal: Int32, _ count: Int) -> Void) {
    let queue = DispatchQueue(label: "hpod.signals")
    let counter = Counter()
    signals = [SIGINT, SIGTERM] + (Self.isIgnored(SIGHUP) ? [] : [SIGHUP])
    sources = signals.map { signalNumber in
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
      source.setEventHandler { handler(signalNumber, counter.increment()) }
      source.resume()
      return source
    }
  }

  func cancel() {
    sources.forEach { $0.cancel() }
    for signalNumber in signals { signal(signalNumber, SIG_DFL) }
  }

  private static func isIgnored(_ signalNumber: Int32) -> Bool {
    var current = sigaction()
    guard sigaction(signalNumber, nil, &current) == 0 else { return false }
    // SIG_IGN is the handler address 1.
    return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1
  }

  /// Only touched on the handler's serial queue.
  private final class Counter: @unchecked Sendable {
    var value = 0
    func increment() -> Int {
      value += 1
      return value
    }
  }
}
