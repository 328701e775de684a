public import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A trial's folder: its parameter file, artifact folder and logs. For a cluster executor the
/// folder is on the file system the cluster's nodes share.
public struct TrialWorkspace: Sendable, Hashable {
  public var directory: String

  public init(directory: String) {
    self.directory = directory
  }

  public var paramsFile: String { "\(directory)/params.json" }
  public var artifacts: String { "\(directory)/artifacts" }
  public var stdoutLog: String { "\(directory)/stdout.log" }
  public var stderrLog: String { "\(directory)/stderr.log" }

  /// Creates the folders and writes the parameter file.
  public func create(paramsJSON: String) throws {
    do {
      try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
    } catch {
      throw WorkspaceError(message: "cannot create \(artifacts): \(error.localizedDescription)")
    }
    guard FileManager.default.createFile(atPath: paramsFile, contents: Data(paramsJSON.utf8)) else {
      throw WorkspaceError(message: "cannot write \(paramsFile): \(String(cString: strerror(errno)))")
    }
  }

  /// The last non-empty line of the trial's stderr log, at most 300 characters.
  public func lastErrorLine() -> String? { Self.lastLine(ofFile: stderrLog) }

  /// The last non-empty line of a file, at most 300 characters.
  public static func lastLine(ofFile path: String) -> String? {
    // A log that cannot be read has no last line to quote.
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    let size = (try? handle.seekToEnd()) ?? 0
    try? handle.seek(toOffset: size > 400 ? size - 400 : 0)
    let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    return text.split(whereSeparator: \.isNewline).last.map { String($0.prefix(300)) }
  }
}

/// A trial folder that could not be made.
public struct WorkspaceError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
