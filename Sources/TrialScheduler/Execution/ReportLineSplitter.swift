/// Splits a trial's stdout, chunk by chunk, into the lines that start with the report prefix
/// (prefix stripped), keeping a partial last line until its newline arrives. Lines longer than
/// `maximumLine` are dropped whole.
struct ReportLineSplitter: Sendable {
  let prefix: [UInt8]
  private var pending: [UInt8] = []
  private var overlong = false
  /// Bytes seen since the last newline: what a reader that resumes at a line boundary reads again.
  private(set) var unterminatedBytes = 0

  /// Longest line kept for parsing; longer lines still go to the log.
  static let maximumLine = 1 << 20

  init(prefix: String) {
    self.prefix = Array(prefix.utf8)
  }

  /// The reported lines completed by `chunk`.
  mutating func feed(_ chunk: UnsafeRawBufferPointer) -> [String] {
    var reports: [String] = []
    var start = chunk.startIndex
    while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
      if overlong {
        overlong = false
        pending.removeAll(keepingCapacity: true)
      } else if pending.isEmpty {
        if let line = reportLine(chunk[start..<newline]) { reports.append(line) }
      } else {
        pending.append(contentsOf: chunk[start..<newline])
        if let line = reportLine(pending[...]) { reports.append(line) }
        pending.removeAll(keepingCapacity: true)
      }
      unterminatedBytes = 0
      start = newline + 1
    }
    unterminatedBytes += chunk.endIndex - start
    guard start < chunk.endIndex, !overlong else { return reports }
    pending.append(contentsOf: chunk[start...])
    if pending.count > Self.maximumLine {
      overlong = true
      pending.removeAll()
    }
    return reports
  }

  mutating func feed(_ bytes: [UInt8]) -> [String] {
    bytes.withUnsafeBytes { feed($0) }
  }

  /// Forgets the partial line: the output starts again (a truncated file).
  mutating func reset() {
    pending.removeAll()
    overlong = false
    unterminatedBytes = 0
  }

  /// The last line, when the output ended without a newline after it.
  mutating func finish() -> String? {
    defer {
      pending.removeAll()
      unterminatedBytes = 0
    }
    guard !pending.isEmpty, !overlong else { return nil }
    return reportLine(pending[...])
  }

  private func reportLine<C: Collection<UInt8>>(_ line: C) -> String? {
    guard line.starts(with: prefix) else { return nil }
    var text = String(decoding: line.dropFirst(prefix.count), as: UTF8.self)
    if text.hasSuffix("\r") { text.removeLast() }
    return text
  }
}
