import TrackingBridge

extension Array where Element == TrialRecord {
  /// The trials in the order `before` puts their values in, ties in their own order: what
  /// `sorted { before(value($0), value($1)) }` returns, sorting (value, index) pairs instead of
  /// moving whole records (a 10,000-trial study's sort was a tenth of its page).
  func ordered(by value: (TrialRecord) -> Double, _ before: (Double, Double) -> Bool) -> [TrialRecord] {
    let keyed = indices.map { (value: value(self[$0]), index: $0) }
    let sorted = keyed.sorted { a, b in
      if before(a.value, b.value) { return true }
      if before(b.value, a.value) { return false }
      return a.index < b.index
    }
    return sorted.map { self[$0.index] }
  }
}
