import Foundation
import Synchronization

// What the Bayesian optimizer keeps between suggestions (fitted hyperparameters and warps per
// model slot) and the result slots its parallel fits write.

/// Fit and warp caches per model slot, created on first use.
final class SlotCaches: Sendable {
  private let slots = Mutex<[Int: (FitCache, WarpChoices)]>([:])

  func caches(_ index: Int) -> (FitCache, WarpChoices) {
    slots.withLock { slots in
      if let existing = slots[index] { return existing }
      let created = (FitCache(), WarpChoices())
      slots[index] = created
      return created
    }
  }
}

/// Fitted hyperparameters by training-data fingerprint, for warm starts (a few dozen entries),
/// one per strategy instance.
final class FitCache: Sendable {
  struct Entry: Sendable {
    var fingerprint: UInt64
    var count: Int
    var hyperparameters: GPHyperparameters
    /// The fit's final L-BFGS curvature pairs: the next fit starts with a good Hessian model.
    var curvature: LBFGS.Curvature
  }

  private let entries = Mutex<[Entry]>([])
  private let capacity = 32

  /// `result[i]` fingerprints the first `i` observations (inputs and values).
  static func prefixFingerprints(_ data: BayesianOptimization.TrainingData, dimension d: Int, salt: Int) -> [UInt64] {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(bitPattern: Int64(salt))
    func mix(_ value: Double) {
      hash = (hash ^ value.bitPattern) &* 0x100_0000_01B3
      hash ^= hash >> 29
    }
    var result = [hash]
    result.reserveCapacity(data.count + 1)
    for i in 0..<data.count {
      for k in 0..<d { mix(data.x[i * d + k]) }
      // Raw losses, not standardized ones: those change with every new observation.
      mix(data.losses[i])
      result.append(hash)
    }
    return result
  }

  func lookup(_ prefixes: [UInt64]) -> Entry? {
    entries.withLock { entries in
      entries.filter { $0.count < prefixes.count && prefixes[$0.count] == $0.fingerprint }.max { $0.count < $1.count }
    }
  }

  func store(_ entry: Entry) {
    entries.withLock { entries in
      entries.removeAll { $0.fingerprint == entry.fingerprint && $0.count == entry.count }
      entries.append(entry)
      if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
    }
  }
}

/// Per-worker result slots of one `concurrentPerform`, each worker writing its own slot (raw
/// storage, so that no two workers touch one array buffer).
final class ResultSlots<Value>: @unchecked Sendable {
  private let base: UnsafeMutablePointer<Result<Value, any Error>?>
  private let count: Int

  init(count: Int) {
    self.count = count
    base = .allocate(capacity: count)
    base.initialize(repeating: nil, count: count)
  }

  deinit {
    base.deinitialize(count: count)
    base.deallocate()
  }

  subscript(index: Int) -> Result<Value, any Error>? {
    get { base[index] }
    set { base[index] = newValue }
  }
}
