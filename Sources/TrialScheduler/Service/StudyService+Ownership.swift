import Foundation
import TrackingBridge

#if canImport(Glibc)
  import Glibc
#endif

// Which process runs a study: this service, an `hpod run` holding its lease, or none.
extension StudyService {
  /// Why a study the store records as `running` is not running, or nil when a process runs it:
  /// this service, or an `hpod run` (it holds the study's name lock, then its lease). A study
  /// whose `hpod run` was killed or crashed stays `running` in the store until it resumes; the
  /// reads say what is true of it meanwhile. Ask-and-tell studies run in their clients.
  nonisolated func undriven(_ study: StudyRecord, spec: StudySpec?) -> String? {
    guard study.state == .running, spec?.isAskAndTell != true, let id = study.id,
      !driving.withLock({ $0.contains(id) }),
      !FileLock.isHeld(StudyLease.path(home: home, studyId: id)),
      !FileLock.isHeld(home.lockPath(studyName: study.name))
    else { return nil }
    return
      "no process runs it: the hpod run that ran it ended without saving it (killed, or it crashed); run its spec again to resume it, or `hpod resume \(id)` on a daemon"
  }

  /// The study's lease, once no other process holds it; nil when the study is stopped first.
  /// `waited` says whether another process held it. A lease that cannot be taken at all (its
  /// folder cannot be written) throws, with where and why, and the study fails with that.
  nonisolated func waitForLease(_ study: StudyRecord, stop: StopSignal) async throws -> (
    StudyLease?, waited: Bool
  ) {
    var waited = false
    let home = home
    while stop.reason == nil {
      do {
        let lease = try await BlockingWork.run {
          try StudyLease.acquire(home: home, studyId: study.id!, studyName: study.name)
        }
        return (lease, waited)
      } catch let held as StudyLease.Held {
        if !waited {
          logger.warning("\(held): leaving it alone; the daemon takes it over once that process lets it go")
          waited = true
        }
      } catch {
        throw ServiceError.conflict(
          "cannot start: the study's lock in \(home.path) cannot be taken (\(error)); make the folder writable, then `hpod resume \(study.id!)`"
        )
      }
      try? await Task.sleep(for: Self.leasePollInterval)
    }
    return (nil, waited)
  }

  static let leasePollInterval: Duration = .seconds(1)

  /// Refuses to act on a study that another process drives.
  nonisolated func requireNotOwnedElsewhere(_ study: StudyRecord) throws {
    if let owner = StudyLease.owner(home: home, studyId: study.id!), owner.pid != getpid() {
      throw ServiceError.conflict(
        "study \(study.id!) '\(study.name)' is being run by \(owner); stop or cancel it there (or wait for it to end)")
    }
  }
}
