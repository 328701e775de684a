/// How MLflow 3.17's server samples a metric's history for its charts
/// (`get-history-bulk-interval`, SqlAlchemyStore._sample_rows_with_window_functions): the points
/// in step, time, value order are cut into `maxResults` buckets as SQL's NTILE cuts them, the
/// first point of each kept, and the last point always (replacing the last kept one when the
/// sample is full).
public enum MetricSampling {
  public static func sample(_ points: [TrackingMetric], maxResults: Int) -> [TrackingMetric] {
    let ordered = points.sorted { ($0.step, $0.timestamp, $0.value) < ($1.step, $1.timestamp, $1.value) }
    guard let last = ordered.last else { return [] }
    let buckets = max(1, maxResults)
    var kept: [TrackingMetric]
    if ordered.count <= buckets {
      kept = ordered
    } else {
      // NTILE: the first `count % buckets` buckets hold one point more than the others.
      let (size, larger) = (ordered.count / buckets, ordered.count % buckets)
      kept = []
      var start = 0
      for bucket in 0..<buckets {
        kept.append(ordered[start])
        start += size + (bucket < larger ? 1 : 0)
      }
    }
    // Compared by bits: a NaN point is the same point as itself.
    func same(_ a: TrackingMetric, _ b: TrackingMetric) -> Bool {
      (a.step, a.timestamp, a.value.bitPattern) == (b.step, b.timestamp, b.value.bitPattern)
    }
    if let final = kept.last, !same(final, last) {
      if kept.count >= buckets { kept[kept.count - 1] = last } else { kept.append(last) }
    }
    return kept
  }
}
