public import Foundation
public import TrackingBridge

/// The right to drive one study, held by one process at a time: `hpod run`, or `hpod serve`
/// for each study it runs. Only the holder creates, kills or re-runs the study's trials, so a
/// second process on the same store never kills trials it does not own.
///
/// It is an exclusive flock on `locks/study-<id>.lock`, which also records who holds it. The
/// kernel drops a flock when its holder dies (kill -9 included), so a stale lease needs no
/// heartbeat: the next process simply takes it, and only then treats the study's unfinished
/// trials as leftovers. The descriptor is close-on-exec and trials start with only their
/// three standard descriptors, so no trial inherits the lease.
public final class StudyLease: Sendable {
  /// Who holds a lease: written into the lock file when it is taken.
  public struct Owner: Codable, Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var host: String
    public var command: String
    public var since: Date

    public var description: String {
      let formatter = ISO8601DateFormatter()
      return "\(command) (pid \(pid) on \(host), since \(formatter.string(from: since)))"
    }

    /// This process, named by its executable and subcommand (`hpod serve`, `hpod run`).
    public static var current: Owner {
      let arguments = CommandLine.arguments
      let program = (arguments.first.map { ($0 as NSString).lastPathComponent } ?? "hpod")
      let command = arguments.count > 1 && !arguments[1].hasPrefix("-") ? "\(program) \(arguments[1])" : program
      return Owner(pid: getpid(), host: ProcessInfo.processInfo.hostName, command: command, since: Date())
    }
  }

  /// Another live process holds the study.
  public struct Held: Error, Sendable, CustomStringConvertible {
    public var studyId: Int64
    public var studyName: String
    public var owner: Owner?

    public var description: String {
      "study '\(studyName)' (id \(studyId)) is being run by \(owner?.description ?? "another hpod process")"
    }
  }

  public let studyId: Int64
  private let lock: FileLock

  private init(studyId: Int64, lock: FileLock) {
    self.studyId = studyId
    self.lock = lock
  }

  public static func path(home: HpodHome, studyId: Int64) -> String { "\(home.path)/locks/study-\(studyId).lock" }

  /// Takes the study's lease, or throws `Held` naming the process that has it.
  public static func acquire(home: HpodHome, studyId: Int64, studyName: String, owner: Owner = .current) throws
    -> StudyLease
  {
    let path = path(home: home, studyId: studyId)
    guard let lock = try FileLock.tryLock(path, probed: true) else {
      throw Held(studyId: studyId, studyName: studyName, owner: Self.owner(home: home, studyId: studyId))
    }
    lock.record((try? JSONCoding.encoder.encode(owner)) ?? Data())
    return StudyLease(studyId: studyId, lock: lock)
  }

  /// Who holds the study's lease now, or nil when nobody does.
  public static func owner(home: HpodHome, studyId: Int64) -> Owner? {
    let path = path(home: home, studyId: studyId)
    guard FileLock.isHeld(path), let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONCoding.decoder.decode(Owner.self, from: data)
  }

  public func release() { lock.release() }

}
