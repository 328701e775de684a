public import Foundation
public import StudyModel
public import TrackingBridge

extension StudySpec {
  /// Where trials run: as local processes (the default) or as Slurm batch jobs.
  public enum Executor: Sendable, Hashable {
    case local
    /// The study's Slurm settings, with a full training's own where the spec overrides them.
    case slurm(SlurmSettings, perTier: [Tier: SlurmSettings])
  }

  /// What one trial needs while it runs; nothing declared is nothing reserved.
  public struct Resources: Sendable, Hashable {
    public var gpus: Int
    public var cpus: Int

    public init(gpus: Int = 0, cpus: Int = 0) {
      self.gpus = gpus
      self.cpus = cpus
    }

    public static let none = Resources()
  }

  /// The resources a trial of `tier` declares.
  public func resources(for tier: Tier) -> Resources {
    resourcesByTier[tier] ?? resourcesByTier[searchTier] ?? .none
  }
}

/// How hpod submits a study's trials to Slurm (`executor: {kind: slurm, ...}`).
public struct SlurmSettings: Sendable, Hashable {
  public var partition: String?
  public var account: String?
  public var qos: String?
  /// Slurm's own time limit, in its notation (`30`, `10:00`, `2:00:00`, `1-00:00:00`).
  public var time: String?
  public var cpusPerTask: Int?
  /// Memory per node, e.g. `4G`.
  public var mem: String?
  /// Generic resources, e.g. `gpu:1`.
  public var gres: String?
  public var constraint: String?
  /// More sbatch arguments, passed as given (those hpod sets itself are refused).
  public var extraArguments: [String]
  /// The folder, visible from every node, where each trial's folder and job output go; nil:
  /// hpod's home (a single-node cluster, or a home on a shared file system).
  public var sharedFolder: String?
  /// How often hpod asks Slurm about its jobs.
  public var pollInterval: Duration

  public init(
    partition: String? = nil, account: String? = nil, qos: String? = nil, time: String? = nil,
    cpusPerTask: Int? = nil, mem: String? = nil, gres: String? = nil, constraint: String? = nil,
    extraArguments: [String] = [], sharedFolder: String? = nil, pollInterval: Duration = .seconds(2)
  ) {
    self.partition = partition
    self.account = account
    self.qos = qos
    self.time = time
    self.cpusPerTask = cpusPerTask
    self.mem = mem
    self.gres = gres
    self.constraint = constraint
    self.extraArguments = extraArguments
    self.sharedFolder = sharedFolder
    self.pollInterval = pollInterval
  }
}

extension StudySpec {
  /// The executor the spec asks for; `environment` is where a cluster's commands find it.
  public func makeExecutor(environment: [String: String] = ProcessInfo.processInfo.environment) -> any TrialExecutor {
    switch executor {
    case .local: LocalProcessExecutor()
    case .slurm(let settings, let perTier):
      SlurmExecutor(settings: settings, perTier: perTier, environment: environment)
    }
  }
}

extension StudySpec {
  /// The MLflow experiment a stored study's trials appear in (`tracking.experiment`, by
  /// default the study's name).
  public static func experimentName(of study: StudyRecord) -> String {
    // A stored spec that no longer parses names no experiment: the default, the study's name.
    (try? StudyService.spec(of: study))?.tracking.experiment ?? study.name
  }
}
