import TrackingBridge

/// The pause and resume buttons of a study's page and of a run's page: plain forms that post
/// to the dashboard (`DashboardController+Pause`), so they work without JavaScript. A button is
/// shown only where its action applies now; the server still checks when it is pressed.
enum PauseControls {
  /// Pause while the study runs; resume once it was paused, cancelled or failed.
  static func study(_ study: StudyRecord) -> HTML {
    let id = study.id!
    switch study.state {
    case .running:
      return form(
        "/studies/\(id)/pause", "Pause study",
        note: "stops its trials (each keeps what its checkpoints saved); nothing runs until it is resumed")
    case .interrupted, .cancelled, .failed:
      return form(
        "/studies/\(id)/resume", "Resume study", note: "its stopped trials continue from their last checkpoints")
    case .completed:
      return .empty
    }
  }

  /// A trial's pause state (`hpod.paused_by_user`) and its button: pause while it runs in a
  /// running study; resume while it is held.
  static func trial(_ trial: TrialRecord, tags: [String: String], in snapshot: StudySnapshot) -> HTML {
    let path = "/studies/\(snapshot.id)/runs/\(trial.number)"
    switch tags[HpodTag.pausedByUser] {
    case HpodTag.held:
      let resumable = snapshot.study.state != .completed && snapshot.study.state != .failed
      return """
        <p class="paused" role="status"><span class="badge paused">paused</span> paused by hand: its configuration \
        does not run again until it is resumed\(resumable ? "" : " (the study is \(snapshot.study.state.rawValue); submit it again to run more)")</p>\
        \(resumable ? form("\(path)/resume", "Resume trial \(trial.number)", note: "continues from its last checkpoint, in a new attempt") : HTML.empty)
        """
    case HpodTag.resumed:
      let next = snapshot.trials.first { $0.retryOf == trial.id }
      let link: HTML =
        next.map { " as <a href=\"/studies/\(snapshot.id)/runs/\($0.number)\">trial \($0.number)</a>" } ?? ""
      return "<p class=\"paused\">Paused by hand, then resumed\(link).</p>"
    default:
      guard !trial.state.isFinished, snapshot.study.state == .running else { return .empty }
      return form(
        "\(path)/pause", "Pause trial \(trial.number)",
        note: "stops it now (it keeps what its checkpoints saved) and gives its slot to the next trial")
    }
  }

  static func form(_ action: String, _ label: String, note: String) -> HTML {
    """
    <form method="post" action="\(action)" class="controls pause-controls"><button type="submit">\(label)</button>\
    <span class="hint">\(note)</span></form>
    """
  }
}
