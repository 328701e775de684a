import Foundation

extension FileHandle {
  /// Writes `text`, or drops it when nobody reads any more (a closed pipe, a terminal that hung
  /// up). `write(_: Data)` would stop hpod with a fatal error there, and `hpod run` must outlive
  /// its reader long enough to stop its trials and save the study.
  func writeText(_ text: String) {
    do {
      try write(contentsOf: Data(text.utf8))
    } catch {
      // The reader is gone: there is no one left to tell.
    }
  }
}
