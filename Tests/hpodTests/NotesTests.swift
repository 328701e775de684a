import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

/// Notes on a study and its runs (issue 36 item 5): the API, the MLflow tag they are, the
/// dashboard's pages, form and runs table, and `hpod note` with and without a daemon.
@Suite("Notes on studies and runs")
struct NotesTests {
  @Test(
    "notes set through the API are shown (escaped) on the study and run pages and in the runs table, searchable there; a run's note is its mlflow.note.content tag both ways; an over-long note or a bad body changes nothing"
  )
  func notesThroughTheAPIAndPages() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await DashboardFixture.run(daemon, client)
      let id = study.id
      func put(_ path: String, _ body: String) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(
          uri: path, method: .put, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)
        ) { ($0.status, $0.text) }
      }
      func note(_ path: String) async throws -> API.Note {
        try await client.execute(uri: path, method: .get) { try $0.decode(API.Note.self) }
      }
      // Given no notes yet
      #expect(try await note("/api/v1/studies/\(id)/note") == API.Note(study: id, trial: nil, note: nil))
      let (_, empty) = try await client.execute(uri: "/api/v1/studies/\(id)/note", method: .get) {
        ($0.status, $0.text)
      }
      #expect(empty.contains("\"note\":null"), "\(empty)")

      // When a note is set on the study and on run 0
      var (status, body) = try await put("/api/v1/studies/\(id)/note", #"{"note": "chose <b>x</b> by hand\n"}"#)
      #expect(status == .ok, "\(body)")
      (status, body) = try await put("/api/v1/studies/\(id)/trials/0/note", #"{"note": "diverged <script>x</script>"}"#)
      #expect(status == .ok, "\(body)")
      // Then both read back (trailing whitespace dropped)
      #expect(try await note("/api/v1/studies/\(id)/note").note == "chose <b>x</b> by hand")
      #expect(try await note("/api/v1/studies/\(id)/trials/0/note").note == "diverged <script>x</script>")

      // And run 0's note is its MLflow tag
      let trials = try await client.execute(uri: "/api/v1/studies/\(id)/trials", method: .get) {
        try $0.decode(API.TrialList.self).trials
      }
      let run0 = TrackingStore.runId(trialId: try #require(trials.first { $0.number == 0 }).id)
      let tags = try await client.execute(uri: "/api/2.0/mlflow/runs/get?run_id=\(run0)", method: .get) {
        String(buffer: $0.body)
      }
      let run = try JSONSerialization.jsonObject(with: Data(tags.utf8)) as? [String: Any]
      let runTags = ((run?["run"] as? [String: Any])?["data"] as? [String: Any])?["tags"] as? [[String: String]] ?? []
      #expect(runTags.contains { $0["key"] == Note.tagKey && $0["value"] == "diverged <script>x</script>" }, "\(tags)")
      // And a note set through MLflow's API is run 1's note
      let run1 = TrackingStore.runId(trialId: try #require(trials.first { $0.number == 1 }).id)
      let setTag = try await client.execute(
        uri: "/api/2.0/mlflow/runs/set-tag", method: .post, headers: [.contentType: "application/json"],
        body: ByteBuffer(string: #"{"run_id": "\#(run1)", "key": "mlflow.note.content", "value": "zebra baseline"}"#)
      ) { $0.status }
      #expect(setTag == .ok)
      #expect(try await note("/api/v1/studies/\(id)/trials/1/note").note == "zebra baseline")

      // When a note is too long, the body is not JSON, or the trial does not exist
      let long = String(repeating: "n", count: Note.maxLength + 1)
      (status, body) = try await put("/api/v1/studies/\(id)/trials/0/note", #"{"note": "\#(long)"}"#)
      #expect(status == .badRequest && body.contains("at most \(Note.maxLength) characters"), "\(body.prefix(300))")
      (status, _) = try await put("/api/v1/studies/\(id)/trials/0/note", #"{"text": 3}"#)
      #expect(status == .badRequest)
      (status, _) = try await put("/api/v1/studies/\(id)/trials/999/note", #"{"note": "x"}"#)
      #expect(status == .notFound)
      // Then nothing changed
      #expect(try await note("/api/v1/studies/\(id)/trials/0/note").note == "diverged <script>x</script>")

      // And the study page shows the study's note escaped, the runs table a note column
      let (_, page, _) = try await client.get("/studies/\(id)")
      #expect(page.contains("chose &lt;b&gt;x&lt;/b&gt; by hand") && !page.contains("<b>x</b>"))
      #expect(page.contains("aria-label=\"sort by note\""))
      #expect(page.contains("diverged &lt;script&gt;x&lt;/script&gt;") && !page.contains("<script>x</script>"))
      // And searching the table by a word of a note finds that run alone
      let (_, found, _) = try await client.get("/studies/\(id)?part=runs&q=zebra")
      #expect(found.contains("data-rows=\"1\"") && found.contains("data-trial=\"1\""), "\(found.prefix(400))")
      // And the run page shows its note with the form that edits it
      let (_, runPage, _) = try await client.get("/studies/\(id)/runs/0")
      #expect(runPage.contains("action=\"/studies/\(id)/runs/0/note\""))
      #expect(runPage.contains("diverged &lt;script&gt;x&lt;/script&gt;"))

      // When the run page's form is posted (a browser's CR LF line breaks)
      let posted = try await client.execute(
        uri: "/studies/\(id)/runs/2/note", method: .post,
        headers: [.contentType: "application/x-www-form-urlencoded"],
        body: ByteBuffer(string: "note=from+the+form%0D%0Aline+%3C2%3E")
      ) { ($0.status, $0.headers[.location]) }
      // Then it goes back to the run page, and the note is kept
      #expect(posted.0 == .seeOther && posted.1?.hasPrefix("/studies/\(id)/runs/2?message=note") == true)
      #expect(try await note("/api/v1/studies/\(id)/trials/2/note").note == "from the form\nline <2>")
      // And an over-long note from the form is a page saying why, nothing changed
      let refused = try await client.execute(
        uri: "/studies/\(id)/note", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
        body: ByteBuffer(string: "note=" + long)
      ) { ($0.status, $0.text) }
      #expect(refused.0 == .badRequest && refused.1.contains("at most"))
      #expect(try await note("/api/v1/studies/\(id)/note").note == "chose <b>x</b> by hand")
    }
  }

  @Test(
    "hpod note prints and sets notes through the daemon, and on the local store when no daemon answers, with --json")
  func noteCommand() async throws {
    let folder = try makeTestFolder("hpod-notes-cli")
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    try """
    name: noted
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 1, max_trials: 2}
    parameters: {x: {type: float, min: 0, max: 1}}
    trial: {command: [sh, -c, 'echo "hpod {\\"score\\": 0.5}"'], timeout: 1m}
    """.write(toFile: "\(folder)/study.yaml", atomically: true, encoding: .utf8)
    #expect(try await daemon.client(["submit", "\(folder)/study.yaml"]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(try await waitUntil(seconds: 30) { try database.study(id: 1)?.state.isFinished == true })

    // Through the daemon: set, then read as text and as JSON
    var (status, output) = try await daemon.client(["note", "1", "1", "--set", "lr too high"])
    #expect(status == 0 && output.contains("set the note of trial 1 of study 1"), "\(output)")
    (status, output) = try await daemon.client(["note", "1", "1"])
    #expect(status == 0 && output == "lr too high\n", "\(output)")
    (status, output) = try await daemon.client(["note", "1", "1", "--json"])
    let json = try API.decoder.decode(API.Note.self, from: Data(output.utf8))
    #expect(json == API.Note(study: 1, trial: 1, note: "lr too high"))
    (status, output) = try await daemon.client(["note", "1", "7", "--set", "x"])
    #expect(status != 0 && output.contains("study 1 has no trial 7"), "\(output)")
    daemon.stop()

    // Without a daemon: the local store is read and written
    let unreachable = ["--server", "http://127.0.0.1:\(daemon.port)"]
    (status, output) = try await HPODProcess.run(
      ["note", "1", "--set", "two runs only"] + unreachable, home: daemon.home)
    #expect(status == 0, "\(output)")
    #expect(try database.studyNote(studyId: 1) == "two runs only")
    (status, output) = try await HPODProcess.run(["note", "1", "1", "--clear"] + unreachable, home: daemon.home)
    #expect(status == 0 && output.contains("removed the note of trial 1"), "\(output)")
    #expect(try database.trialNote(trialId: try #require(try database.trial(studyId: 1, number: 1)).id!) == nil)
    (status, output) = try await HPODProcess.run(
      ["note", "1", "--set", "a", "--clear"] + unreachable, home: daemon.home)
    #expect(status != 0 && output.contains("cannot be used together"), "\(output)")
  }
}
