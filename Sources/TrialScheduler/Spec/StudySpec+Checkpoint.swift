extension StudySpec {
  /// `checkpoint:`: what hpod keeps of the checkpoints trials save in their folder
  /// (`HPOD_CHECKPOINT_DIR`), one folder per configuration and tier that its re-runs share.
  public struct Checkpoint: Sendable, Hashable {
    /// The reported checkpoints kept per trial; older ones are deleted from its folder as
    /// newer ones are reported. Nil keeps them all.
    public var keep: Int?
    public var free: Free = .unused
    /// `files`: checkpoints saved as files whose names carry their step, found in the folder
    /// without a report line.
    public var files: CheckpointFiles?

    public init(keep: Int? = nil, free: Free = .unused, files: CheckpointFiles? = nil) {
      self.keep = keep
      self.free = free
      self.files = files
    }

    /// When a trial's checkpoint folder is deleted.
    public enum Free: String, Sendable, Hashable, CaseIterable {
      /// When its trial can no longer use it: pruned, or failed for good (no re-run left).
      /// Completed trials keep theirs (a full training may continue from a quick test's).
      case unused
      case never
    }
  }
}
