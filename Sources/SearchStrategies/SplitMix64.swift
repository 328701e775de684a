/// A small, fast, seedable generator (Steele, Lea & Flood's SplitMix64).
///
/// Strategies create one per suggestion from `(seed, suggestion index)`, which keeps every
/// suggestion reproducible on its own, whatever happened before it.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) {
    state = seed
  }

  /// A generator for the `index`-th draw of a stream identified by `seed` and `stream`.
  public init(seed: UInt64, stream: UInt64, index: UInt64) {
    var mixer = SplitMix64(seed: seed ^ 0x5851_F42D_4C95_7F2D &* (stream &+ 1))
    for _ in 0..<2 { _ = mixer.next() }
    state = mixer.next() ^ (index &* 0x9E37_79B9_7F4A_7C15)
    _ = next()
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A double uniform in `[0, 1)`.
  public mutating func nextUnit() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }
}
