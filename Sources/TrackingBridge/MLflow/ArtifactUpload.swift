import Foundation

/// Uploads what a trial left in HPOD_ARTIFACT_DIR (and its logs, under `hpod-logs/`) through
/// the MLflow server's artifact proxy. Uploads are PUTs by path, so sending again after an
/// interruption overwrites rather than duplicates.
enum ArtifactUpload {
  static func upload(trial: TrialRecord, run: MirroredRun, client: MLflowClient) async throws {
    guard let directory = trial.runDirectory else { return }  // never started: nothing to send
    let root = try proxyPath(of: run.artifactURI)
    var files: [(local: URL, remote: String)] = []
    let artifacts = URL(fileURLWithPath: "\(directory)/artifacts")
    if let walker = FileManager.default.enumerator(
      at: artifacts, includingPropertiesForKeys: [.isRegularFileKey], options: [])
    {
      for case let url as URL in walker
      where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
        let relative = String(url.standardizedFileURL.path.dropFirst(artifacts.standardizedFileURL.path.count + 1))
        files.append((url, remoteName(relative)))
      }
    }
    for log in ["stdout.log", "stderr.log"] where FileManager.default.fileExists(atPath: "\(directory)/\(log)") {
      files.append((URL(fileURLWithPath: "\(directory)/\(log)"), "hpod-logs/\(log)"))
    }
    // A file the trial's folder no longer has (cleaned up since) is skipped, not retried for ever.
    for file in files.sorted(by: { $0.remote < $1.remote })
    where FileManager.default.isReadableFile(atPath: file.local.path) {
      try await client.uploadArtifact(path: "\(root)/\(file.remote)", file: file.local)
    }
  }

  /// The registered version's source: the model file inside the run's artifacts, or the
  /// run's artifact root when the study names no file.
  static func source(of version: ModelVersion, run: MirroredRun, runDirectory: String?) -> String {
    let prefix = "\(runDirectory ?? "")/artifacts/"
    guard runDirectory != nil, let path = version.artifactPath, path.hasPrefix(prefix) else { return run.artifactURI }
    return "\(run.artifactURI)/\(remoteName(String(path.dropFirst(prefix.count))))"
  }

  /// The name a file gets in MLflow: its path in the artifact folder, with `#` (which MLflow
  /// refuses in artifact paths) as `_`.
  static func remoteName(_ relative: String) -> String {
    relative.replacingOccurrences(of: "#", with: "_")
  }

  /// `mlflow-artifacts:/1/<run>/artifacts` (or `mlflow-artifacts://host/1/…`) → `1/<run>/artifacts`.
  static func proxyPath(of artifactURI: String) throws -> String {
    guard artifactURI.hasPrefix("mlflow-artifacts:") else {
      throw MLflowError(
        kind: .refused, code: nil,
        message:
          "the server stores artifacts at \(artifactURI), which hpod cannot upload to; start MLflow with --serve-artifacts (the default) and --artifacts-destination"
      )
    }
    var rest = artifactURI.dropFirst("mlflow-artifacts:".count)
    if rest.hasPrefix("//") {
      rest = rest.dropFirst(2)
      rest = rest.drop { $0 != "/" }
    }
    return String(rest.drop { $0 == "/" })
  }
}
