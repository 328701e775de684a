public import ServiceLifecycle

extension MLflowMirror: Service {
  /// Drains the outbox until the service group shuts down, then gives what is left
  /// `Settings.shutdownFlush` to go out (the rest waits in the store for the next hpod), or
  /// until the task is cancelled. In the daemon's group it comes before the scheduler, so it
  /// is shut down after it, when the last trials have written their outcome.
  public func run() async throws {
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await self.drainForever() }
      if (try? await gracefulShutdown()) != nil { _ = await flush(timeout: settings.shutdownFlush) }
      group.cancelAll()
    }
    close()
  }

  /// Drains while `body` runs (a foreground command: `hpod run`, `hpod tracking sync`, a
  /// test), then stops.
  nonisolated public func draining<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    let result = await withTaskGroup(of: Void.self, returning: Result<T, any Error>.self) { group in
      group.addTask { await self.drainForever() }
      defer { group.cancelAll() }
      do {
        return .success(try await body())
      } catch {
        return .failure(error)
      }
    }
    await close()
    return try result.get()
  }
}
