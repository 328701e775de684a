import Foundation
import HummingbirdTesting
import Testing
import TrackingBridge

@testable import hpod

/// The pause and resume buttons in Chromium, pressed with the mouse by a browser logged in with
/// the daemon's token: the forms post with the session cookie from the dashboard's own origin.
extension DashboardBrowserTests {
  /// Presses the button of the form posting to `action` with the mouse.
  func press(_ tab: ChromiumDriver.Tab, formAction action: String) async throws {
    let button = "document.querySelector('form[action=\"\(action)\"] button')"
    try await tab.waitFor("!!\(button)")
    let centre = try #require(
      try await tab.evaluate(
        "(() => { const b = \(button); b.scrollIntoView({block: 'center'}); const r = b.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
      ) as? [Double])
    try await tab.mouse("mouseMoved", x: centre[0], y: centre[1])
    try await tab.mouse("mousePressed", x: centre[0], y: centre[1], pressed: true)
    try await tab.mouse("mouseReleased", x: centre[0], y: centre[1])
  }

  @Test(
    "a run's Pause and Resume buttons, pressed in Chromium, pause the trial and resume it from its checkpoint",
    .timeLimit(.minutes(2)))
  func pauseButtonsInTheBrowser() async throws {
    let daemon = try TestDaemon()
    let database = daemon.service.database
    let shots = try Self.screens(daemon)
    try await daemon.test(token: DashboardPauseTests.token) { client in
      let id = try await DashboardPauseTests.submit(daemon, client, trials: 2)
      #expect(
        try await waitUntil(seconds: 20) {
          try database.trial(studyId: id, number: 0).map { try database.checkpoints(trialIds: [$0.id!]).count >= 2 }
            ?? false
        })
      let first = try #require(try database.trial(studyId: id, number: 0))
      let run = "/studies/\(id)/runs/0"
      let base = "http://127.0.0.1:\(try #require(client.port))"
      try await withTab { tab in
        // Logged in once by ?token=, the browser holds the session cookie
        try await tab.navigate("\(base)/login")
        try await tab.evaluate("location.href = '\(run)?token=\(DashboardPauseTests.token)'")
        try await tab.waitFor(
          "location.pathname === '\(run)' && !location.search.includes('token') && document.readyState === 'complete'")
        // When Pause is pressed
        try await press(tab, formAction: "\(run)/pause")
        // Then the run page comes back saying so, with the paused badge and the resume button
        try await tab.waitFor(
          "location.search.includes('message=') && !!document.querySelector('form[action=\"\(run)/resume\"]')",
          seconds: 20)
        let said = try await tab.evaluate("document.querySelector('p.message').textContent") as? String
        #expect(said?.contains("trial 0 of study \(id) is pausing") == true, "\(said ?? "no message")")
        #expect(try await tab.evaluate("!!document.querySelector('.badge.paused')") as? Bool == true)
        try await tab.screenshot("\(shots)/run-paused.png", fullPage: false)
        #expect(try database.tags(trialId: first.id!)[HpodTag.pausedByUser] == HpodTag.held)
        #expect(try await waitUntil(seconds: 20) { try database.trial(id: first.id!)?.state == .cancelled })

        // When Resume is pressed, the study runs the trial again from its checkpoint to the end
        try await press(tab, formAction: "\(run)/resume")
        try await tab.waitFor("location.search.includes('resumes') || location.search.includes('runs%20again')")
        #expect(try await waitUntil(seconds: 30) { try database.study(id: id)?.state == .completed })
        let rerun = try #require(try database.trials(studyId: id).first { $0.retryOf == first.id })
        #expect(rerun.state == .completed)
        #expect(try database.metrics(trialId: rerun.id!, name: "score").map(\.step) == Array(1...12))
      }
    }
  }
}
