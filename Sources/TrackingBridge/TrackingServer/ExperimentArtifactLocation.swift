import Foundation

/// An experiment's `artifact_location`, checked as MLflow 3.17's server checks it
/// (`_validate_storage_location_uri`), and where hpod finds the artifacts of its runs.
///
/// MLflow refuses fragments and params, a query naming `..`, `runs:/` URIs, locations over
/// 2,048 characters, and schemes that address another host (http, ftp, hdfs, …, and
/// `mlflow-artifacts://host`); it keeps a local path made absolute. The client writes a run's
/// artifacts to `<location>/<run id>/artifacts` itself; hpod lists and serves them when that is
/// on its own machine (a local path, `file:///…`) or behind its own proxy (`mlflow-artifacts:/…`).
public enum ExperimentArtifactLocation {
  /// MLflow's MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH default.
  public static let maxLength = 2048

  /// Schemes whose URIs name a host the server would connect to (MLflow's
  /// HOST_ADDRESSED_ARTIFACT_SCHEMES).
  static let hostAddressedSchemes: Set<String> = [
    "ftp", "sftp", "hdfs", "viewfs", "http", "https", "mlflow-artifacts", "r2", "b2", "abfss",
  ]
  /// Schemes whose last path segment may carry `;params` for Python's urlparse (MLflow refuses them).
  static let schemesWithParams: Set<String> = ["", "ftp", "http", "https", "sftp", "sip", "sips", "tel", "rtsp"]

  /// The location to keep, or MLflow's error for it. A local path is made absolute against
  /// `workingDirectory` (the daemon's, as MLflow's server resolves against its own).
  public static func validated(_ value: String, workingDirectory: String) throws -> String {
    let field = "artifact_location"
    let scheme = Self.scheme(of: value)
    let beforeFragment = value.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
    let path = beforeFragment[0].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    let lastSegment = path[0].split(separator: "/", omittingEmptySubsequences: false).last ?? ""
    if beforeFragment.count > 1 && !beforeFragment[1].isEmpty
      || schemesWithParams.contains(scheme) && lastSegment.contains(";")
    {
      throw TrackingError.invalid("'\(field)' URL can't include fragments or params.")
    }
    if path.count > 1, (String(path[1]).removingPercentEncoding ?? String(path[1])).contains("..") {
      throw TrackingError.invalid("Invalid query string")
    }
    if hostAddressedSchemes.contains(scheme), !(scheme == "mlflow-artifacts" && !value.hasPrefix("mlflow-artifacts://"))
    {
      throw TrackingError.invalid(
        "'\(field)' cannot use the '\(scheme)' scheme: the '\(scheme)' scheme addresses a host other than the tracking server's configured artifact storage, so the server would connect to the host named in the URI. hpod keeps artifacts on its own machine: use a local path, file:///… or mlflow-artifacts:/…"
      )
    }
    if scheme == "runs" {
      throw TrackingError.invalid("Artifact location cannot be a runs:/ URI. Given: '\(value)'")
    }
    try requireLength(value)
    if scheme == "file", !value.hasPrefix("file:///") {
      throw TrackingError.invalid(
        "\(value) is not a valid local URI: a file: artifact location names a path on hpod's machine (file:///path)")
    }
    guard scheme.isEmpty else { return value }
    let absolute =
      value.hasPrefix("/") ? value : (workingDirectory as NSString).appendingPathComponent(value)
    let resolved = (absolute as NSString).standardizingPath
    try requireLength(resolved)
    return resolved
  }

  private static func requireLength(_ value: String) throws {
    guard value.count <= maxLength else {
      throw TrackingError.invalid(
        "Invalid artifact path length. The length of the artifact path cannot be greater than \(maxLength) characters."
      )
    }
  }

  /// A URI's scheme, lower-cased, as Python's urlparse finds it ("" for a path).
  static func scheme(of value: String) -> String {
    guard let colon = value.firstIndex(of: ":") else { return "" }
    let candidate = value[..<colon]
    guard let first = candidate.first, first.isASCII, first.isLetter,
      candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
    else { return "" }
    return candidate.lowercased()
  }

  /// Where hpod finds what is under `location` on its own machine: the folder of a local path
  /// or `file:///` URI; nil for a location only the client reaches (s3:, gs:, …).
  public static func localFolder(of location: String) -> String? {
    switch scheme(of: location) {
    case "": return location
    case "file": return URL(string: location)?.path ?? String(location.dropFirst("file://".count))
    default: return nil
    }
  }

  /// The path under hpod's artifact proxy a `mlflow-artifacts:/…` location names (no leading
  /// or trailing slash), nil for any other location.
  public static func proxyPath(of location: String) -> String? {
    guard scheme(of: location) == "mlflow-artifacts", !location.hasPrefix("mlflow-artifacts://") else { return nil }
    return location.dropFirst("mlflow-artifacts:".count).split(separator: "/").joined(separator: "/")
  }
}
