import Foundation
public import StudyModel

/// Quasi-random search: a scrambled Halton sequence mapped onto the search space.
///
/// Low-discrepancy points cover the space more evenly than independent uniform draws, which
/// matters most for the first few dozen trials. Suggestion number `i` is point `i` of the
/// sequence, so a resumed study continues the same sequence.
public struct QuasiRandomSearch: SearchStrategy {
  public var seed: UInt64

  public init(seed: UInt64 = 0) {
    self.seed = seed
  }

  public var name: String { "quasi_random" }

  public func suggest(_ count: Int, in context: SearchContext) throws -> [Configuration] {
    let halton = ScrambledHalton(seed: seed)
    let dimension = context.space.dimension
    return context.drawDistinct(count) { index, attempt in
      if attempt == 0 { return halton.point(index, dimension: dimension) }
      var rng = SplitMix64(seed: seed, stream: 1, index: UInt64(index) &* 64 &+ UInt64(attempt))
      return (0..<dimension).map { _ in rng.nextUnit() }
    }
  }
}

extension SearchStrategy where Self == QuasiRandomSearch {
  /// Scrambled-Halton quasi-random search, reproducible for a seed.
  public static func quasiRandom(seed: UInt64 = 0) -> QuasiRandomSearch { QuasiRandomSearch(seed: seed) }
}

/// The Halton sequence with random linear digit scrambling (Matoušek): in dimension `j` (base
/// the `j`-th prime `p`), digit `t` of the radical inverse becomes `(a·digit + b) mod p` with
/// `a ∈ [1, p)`, `b ∈ [0, p)` drawn from the seed. Scrambling removes the strong correlations
/// plain Halton shows between high dimensions and makes the sequence seed-dependent.
struct ScrambledHalton: Sendable {
  var seed: UInt64

  /// Point `index` (0-based) of the sequence, in `[0, 1)^dimension`.
  func point(_ index: Int, dimension: Int) -> [Double] {
    points(index..<(index + 1), dimension: dimension)[0]
  }

  /// Points `indices` of the sequence; the scrambling tables are drawn once for all of them.
  func points(_ indices: Range<Int>, dimension: Int) -> [[Double]] {
    let primes = Self.primes(dimension)
    // Per dimension, per digit: the scramble (a, b) of `(a·digit + b) mod p`.
    let tables: [[(a: Int, b: Int)]] = primes.enumerated().map { j, p in
      // Enough digits that p^-digits is below double resolution.
      let digits = Int((53 * log(2.0) / log(Double(p))).rounded(.up))
      return (0..<digits).map { t in
        var rng = SplitMix64(seed: seed, stream: 2 + UInt64(j), index: UInt64(t))
        let a = 1 + Int(rng.next() % UInt64(p - 1))
        return (a, Int(rng.next() % UInt64(p)))
      }
    }
    return indices.map { index in
      (0..<dimension).map { j in
        let p = primes[j]
        var rest = index
        var scale = 1.0 / Double(p)
        var value = 0.0
        for (a, b) in tables[j] {
          let digit = rest % p
          rest /= p
          value += Double((a * digit + b) % p) * scale
          scale /= Double(p)
        }
        return Swift.min(value, 1 - 0x1p-53)
      }
    }
  }

  /// The first `count` primes.
  static func primes(_ count: Int) -> [Int] {
    var primes: [Int] = []
    var candidate = 2
    while primes.count < count {
      if primes.allSatisfy({ $0 * $0 > candidate || candidate % $0 != 0 }) { primes.append(candidate) }
      candidate += 1
    }
    return primes
  }
}
