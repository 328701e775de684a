public import Foundation
import Synchronization

/// The GPUs and CPUs of this machine that local trials are placed on, shared by every study
/// of an hpod (`--gpus`, `--cpus`). A trial that declares `resources:` waits, in arrival
/// order, until what it needs is free, and gets its own devices: no two running trials share
/// a GPU, and the CPUs they declare never add up to more than there are.
public final class ResourcePool: Sendable {
  /// The GPU device ids trials are placed on, as CUDA_VISIBLE_DEVICES names them.
  public let gpus: [String]
  public let cpus: Int
  private struct State {
    var freeGPUs: [String]
    var freeCPUs: Int
    var waiters: [Waiter] = []
    /// Waits withdrawn before they were queued.
    var withdrawn: Set<Int64> = []
  }

  private struct Waiter {
    var trialId: Int64
    var resources: StudySpec.Resources
    var continuation: CheckedContinuation<Placement?, Never>
  }

  private let state: Mutex<State>

  /// What a running trial holds.
  public struct Placement: Sendable, Hashable {
    public var gpus: [String]
    public var cpus: Int
  }

  /// A trial that asks for more than the pool has could never start.
  public struct TooLarge: Error, CustomStringConvertible {
    public var description: String
  }

  public init(gpus: [String], cpus: Int) {
    self.gpus = gpus
    self.cpus = max(cpus, 1)
    state = Mutex(State(freeGPUs: gpus, freeCPUs: max(cpus, 1)))
  }

  /// The devices `nvidia-smi -L` lists (`GPU 0: ...` lines), none where it is absent.
  public static func detectedGPUs() -> [String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["nvidia-smi", "-L"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return [] }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return [] }
    return output.split(whereSeparator: \.isNewline).compactMap { line in
      guard line.hasPrefix("GPU "), let colon = line.firstIndex(of: ":") else { return nil }
      return String(line[line.index(line.startIndex, offsetBy: 4)..<colon])
    }
  }

  /// Waits until `resources` are free and takes them for trial `trialId`; nil when the wait
  /// was withdrawn (`withdraw`) before they were.
  public func acquire(_ resources: StudySpec.Resources, for trialId: Int64 = 0) async throws(TooLarge)
    -> Placement?
  {
    guard resources.gpus <= gpus.count else {
      throw TooLarge(
        description:
          "the trial needs \(resources.gpus) GPU\(resources.gpus == 1 ? "" : "s") and this hpod has \(gpus.count) (\(gpus.isEmpty ? "none found by nvidia-smi" : gpus.joined(separator: ","))); start it with --gpus, or lower resources.gpus"
      )
    }
    guard resources.cpus <= cpus else {
      throw TooLarge(
        description: "the trial needs \(resources.cpus) CPUs and this hpod has \(cpus) (--cpus); lower resources.cpus")
    }
    return await withCheckedContinuation { continuation in
      let ready: Placement?? = state.withLock { state in
        if state.withdrawn.remove(trialId) != nil { return .some(nil) }
        if state.waiters.isEmpty, let placement = Self.take(resources, from: &state) { return placement }
        state.waiters.append(Waiter(trialId: trialId, resources: resources, continuation: continuation))
        return nil
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }

  /// Ends trial `trialId`'s wait: its `acquire` returns nil (at once if it has not begun).
  public func withdraw(_ trialId: Int64) {
    let waiter: CheckedContinuation<Placement?, Never>? = state.withLock { state in
      guard let index = state.waiters.firstIndex(where: { $0.trialId == trialId }) else {
        state.withdrawn.insert(trialId)
        return nil
      }
      return state.waiters.remove(at: index).continuation
    }
    waiter?.resume(returning: nil)
    // A withdrawn head may have held back smaller requests behind it.
    serveWaiters()
  }

  /// Forgets a withdrawal that found no wait (the trial got its devices first).
  public func forgetWithdrawal(_ trialId: Int64) {
    state.withLock { _ = $0.withdrawn.remove(trialId) }
  }

  public func release(_ placement: Placement) {
    state.withLock { state in
      state.freeGPUs.append(contentsOf: placement.gpus)
      state.freeGPUs.sort { gpus.firstIndex(of: $0)! < gpus.firstIndex(of: $1)! }
      state.freeCPUs += placement.cpus
    }
    serveWaiters()
  }

  /// Places waiters in arrival order: a large request at the head is not overtaken by smaller ones.
  private func serveWaiters() {
    let served: [(CheckedContinuation<Placement?, Never>, Placement)] = state.withLock { state in
      var served: [(CheckedContinuation<Placement?, Never>, Placement)] = []
      while let waiter = state.waiters.first, let placement = Self.take(waiter.resources, from: &state) {
        state.waiters.removeFirst()
        served.append((waiter.continuation, placement))
      }
      return served
    }
    for (continuation, placement) in served { continuation.resume(returning: placement) }
  }

  private static func take(_ resources: StudySpec.Resources, from state: inout State) -> Placement? {
    guard state.freeGPUs.count >= resources.gpus, state.freeCPUs >= resources.cpus else { return nil }
    let taken = Array(state.freeGPUs.prefix(resources.gpus))
    state.freeGPUs.removeFirst(resources.gpus)
    state.freeCPUs -= resources.cpus
    return Placement(gpus: taken, cpus: resources.cpus)
  }

  /// The GPUs held by running trials now.
  public var gpusInUse: Int { gpus.count - state.withLock { $0.freeGPUs.count } }
  /// The CPUs held by running trials now.
  public var cpusInUse: Int { cpus - state.withLock { $0.freeCPUs } }
}
