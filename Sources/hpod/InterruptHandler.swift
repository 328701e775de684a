import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// Turns SIGINT and SIGTERM into calls of `handler` with how many have arrived so far, instead
/// of killing hpod, so running trials can be stopped and the study saved.
final class InterruptHandler {
  private let sources: [any DispatchSourceSignal]

  init(_ handler: @escaping @Sendable (Int) -> Void) {
    let queue = DispatchQueue(label: "hpod.signals")
    let counter = Counter()
    sources = [SIGINT, SIGTERM].map { signalNumber in
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
      source.setEventHandler { handler(counter.increment()) }
      source.resume()
      return source
    }
  }

  func cancel() {
    sources.forEach { $0.cancel() }
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
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
