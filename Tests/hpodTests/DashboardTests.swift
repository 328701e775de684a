import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StudyAnalysis
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

@Suite("Dashboard over HTTP")
struct DashboardTests {
  @Test("every page of a finished study renders, with what is user-derived escaped")
  func pagesRender() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await DashboardFixture.run(daemon, client)
      let best = try #require(study.best)
      // Given the studies list, the study page, a run page and a comparison
      let pages = [
        "/", "/studies/\(study.id)", "/studies/\(study.id)/runs/\(best.number)",
        "/studies/\(study.id)/compare?trials=0,1,\(best.number)",
      ]
      for page in pages {
        let (status, html, headers) = try await client.get(page)
        #expect(status == .ok, "\(page): \(html.prefix(300))")
        #expect(headers[.contentType] == "text/html; charset=utf-8")
        #expect(headers[HTTPField.Name("Server-Timing")!]?.hasPrefix("render;dur=") == true)
        #expect(html.hasPrefix("<!doctype html>") && html.hasSuffix("</html>"))
        // Then markup from parameters and logs never becomes markup
        #expect(!html.contains("<i>fancy</i>"), "\(page) shows a parameter value unescaped")
        #expect(!html.contains("<script>alert"), "\(page) shows the log unescaped")
      }
      let (_, studyPage, _) = try await client.get("/studies/\(study.id)")
      #expect(studyPage.contains("&lt;i&gt;fancy&lt;/i&gt;"))
      #expect(studyPage.contains("dash-model v1"))
      #expect(!studyPage.contains("class=\"warning\""), "every metric the spec reads is reported")
      #expect(studyPage.contains("data-part=\"heatmap\"") && studyPage.contains("class=\"chart parallel\""))
      let quickTest = try #require(
        try await client.execute(uri: "/api/v1/studies/\(study.id)/trials?tier=quick_test", method: .get) {
          try $0.decode(API.TrialList.self).trials
        }.first)
      let (_, runPage, _) = try await client.get("/studies/\(study.id)/runs/\(quickTest.number)")
      #expect(runPage.contains("&lt;script&gt;alert(&#39;log&#39;)&lt;/script&gt;"))
    }
  }

  @Test("the stylesheet and script are files served at versioned paths, to a browser not logged in too")
  func assets() async throws {
    let daemon = try TestDaemon()
    try await daemon.test(token: "s3cret") { client in
      // The login page links them by their content's digest
      let (_, login, _) = try await client.get("/login")
      #expect(login.contains("<link rel=\"stylesheet\" href=\"\(DashboardAssets.stylesheetPath)\">"))
      #expect(login.contains("<script src=\"\(DashboardAssets.scriptPath)\"></script>"))
      #expect(!DashboardAssets.stylesheetPath.hasSuffix("=missing"))
      // And they are served without the token, as the files in Assets/
      let (status, css, headers) = try await client.get(DashboardAssets.stylesheetPath)
      #expect(status == .ok && headers[.contentType] == "text/css; charset=utf-8")
      let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/hpod/Server/Dashboard/Assets")
      #expect(css == (try String(contentsOf: source.appendingPathComponent("dashboard.css"), encoding: .utf8)))
      let (scriptStatus, script, scriptHeaders) = try await client.get("/assets/dashboard.js")
      #expect(scriptStatus == .ok && scriptHeaders[.contentType] == "text/javascript; charset=utf-8")
      #expect(script.contains("new EventSource(events)"))
    }
  }

  @Test("the heatmap, runs table and importance parts answer their pickers")
  func partsFollowTheirControls() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await DashboardFixture.run(daemon, client)
      let id = study.id
      // The heatmap part over x × style of quick tests has the cells and best trial of the JSON heatmap
      let heatmap = try await client.execute(
        uri: "/api/v1/studies/\(id)/heatmap?x=x&y=style&tier=quick_test", method: .get
      ) { try $0.decode(Heatmap.self) }
      let (status, part, _) = try await client.get("/studies/\(id)?x=x&y=style&view=quick_test&part=heatmap")
      #expect(status == .ok)
      #expect(part.hasPrefix("<div data-part=\"heatmap\">") && !part.contains("<html"))
      #expect(part.components(separatedBy: "<rect class=\"cell").count - 1 == heatmap.cells.count)
      #expect(part.contains("data-best-trial=\"\(heatmap.cells[heatmap.best!].trial)\""))
      #expect(part.components(separatedBy: "class=\"best-marker\"").count == 2)

      // The runs table sorts by value best first, filters by tier and searches by parameter
      let (_, sorted, _) = try await client.get("/studies/\(id)?part=runs&sort=value")
      #expect(sorted.contains("aria-sort=\"ascending\""))
      let firstRow = try #require(sorted.firstRange(of: "<tr data-trial=\""))
      let best = try #require(study.best)
      let row = sorted[firstRow.upperBound...].prefix { $0 != "\n" }.components(separatedBy: "</tr>")[0]
      #expect(row.contains("<td class=\"num\">\(Format.value(best.value))</td>"))
      let (_, full, _) = try await client.get("/studies/\(id)?part=runs&tier=full_training")
      #expect(full.contains("data-rows=\"1\""))
      let (_, plain, _) = try await client.get("/studies/\(id)?part=runs&q=style%3Dplain")
      let trials = try await client.execute(uri: "/api/v1/studies/\(id)/trials", method: .get) {
        try $0.decode(API.TrialList.self).trials
      }
      let plainCount = trials.filter { $0.params["style"]?.description == "plain" }.count
      #expect(plain.contains("data-rows=\"\(plainCount)\""))
      let (_, byParam, _) = try await client.get("/studies/\(id)?part=runs&sort=param.k&order=desc")
      #expect(byParam.contains("aria-sort=\"descending\""))

      // Importance as JSON, compare as JSON
      let importance = try await client.execute(uri: "/api/v1/studies/\(id)/importance", method: .get) {
        try $0.decode(AnalysisController.Importance.self)
      }
      #expect(importance.parameters.first?.parameter == "x")
      let comparison = try await client.execute(uri: "/api/v1/studies/\(id)/compare?trials=0,1", method: .get) {
        try $0.decode(RunComparison.self)
      }
      #expect(comparison.trials == [0, 1])
      #expect(comparison.parameters.first { $0.name == "x" }?.differs == true)
    }
  }

  @Test("the promote button's endpoint trains a quick test in full, once; artifacts download")
  func promoteAndArtifacts() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await DashboardFixture.run(daemon, client)
      let id = study.id
      let trials = try await client.execute(uri: "/api/v1/studies/\(id)/trials?tier=quick_test", method: .get) {
        try $0.decode(API.TrialList.self).trials
      }
      let promoted = try #require(trials.first { $0.state == "completed" && $0.id != study.best?.sourceTrialId })
      // Given the compare page of that quick test and another: the run page offers the button
      let (_, runPage, _) = try await client.get("/studies/\(id)/runs/\(promoted.number)")
      #expect(runPage.contains("data-promote=\"/api/v1/studies/\(id)/trials/\(promoted.number)/promote\""))
      // When it is pressed
      let answer = try await client.execute(
        uri: "/api/v1/studies/\(id)/trials/\(promoted.number)/promote", method: .post
      ) { response in
        #expect(response.status == .accepted)
        return try response.decode(API.Promotion.self)
      }
      #expect(answer.requested && answer.message.contains("runs again"))
      // Then the study runs its full training, linked to the quick test, and completes again
      var full: API.Trial?
      let deadline = Date().addingTimeInterval(30)
      while Date() < deadline {
        let trials = try await client.execute(uri: "/api/v1/studies/\(id)/trials?tier=full_training", method: .get) {
          try $0.decode(API.TrialList.self).trials
        }
        full = trials.first { $0.sourceTrialId == promoted.id && $0.state == "completed" }
        if full != nil { break }
        try await Task.sleep(for: .milliseconds(100))
      }
      let fullTraining = try #require(full)
      #expect(try await waitForStudy(client, id).state == "completed")
      // and pressing again answers with it
      let again = try await client.execute(
        uri: "/api/v1/studies/\(id)/trials/\(promoted.number)/promote", method: .post
      ) { response in
        #expect(response.status == .ok)
        return try response.decode(API.Promotion.self)
      }
      #expect(!again.requested && again.fullTraining?.id == fullTraining.id)

      // The full training's artifacts are listed and download
      let (_, page, _) = try await client.get("/studies/\(id)/runs/\(fullTraining.number)")
      #expect(page.contains("/studies/\(id)/runs/\(fullTraining.number)/artifacts/plots/curve.txt"))
      let (status, text, headers) = try await client.get(
        "/studies/\(id)/runs/\(fullTraining.number)/artifacts/plots/curve.txt")
      #expect(status == .ok && text == "curve\n")
      #expect(headers[.contentDisposition] == "attachment; filename=\"curve.txt\"")
      for escape in ["%2e%2e/%2e%2e/params.json", "..%2F..%2Fstdout.log", "plots", "nope.txt"] {
        let (status, _, _) = try await client.get("/studies/\(id)/runs/\(fullTraining.number)/artifacts/\(escape)")
        #expect(status == .notFound, "\(escape)")
      }
    }
  }

  /// Requests a user or a script could send, each with the answer it must get.
  static let badPages: [(String, HTTPRequest.Method, HTTPResponse.Status, Bool)] = [
    ("/studies/abc", .get, .badRequest, true),
    ("/studies/999", .get, .notFound, true),
    ("/studies/1/runs/999", .get, .notFound, true),
    ("/studies/1/runs/x", .get, .badRequest, true),
    ("/studies/1?sort=rowid", .get, .badRequest, true),
    ("/studies/1?x=nope", .get, .badRequest, true),
    ("/studies/1?part=nope", .get, .badRequest, true),
    ("/studies/1?state=sleeping", .get, .badRequest, true),
    ("/studies/1/compare", .get, .badRequest, true),
    ("/studies/1/compare?trials=0", .get, .badRequest, true),
    ("/studies/1/compare?trials=0,999", .get, .notFound, true),
    ("/studies/1/compare?trials=0,1,2,3,4", .get, .badRequest, true),
    ("/api/v1/studies/1/compare?trials=a,b", .get, .badRequest, false),
    ("/api/v1/studies/999/importance", .get, .notFound, false),
    ("/api/v1/studies/1/importance?tier=huge", .get, .badRequest, false),
    ("/api/v1/studies/1/trials/999/promote", .post, .notFound, false),
    ("/api/v1/studies/1/trials/4/promote", .post, .conflict, false),
    ("/api/v1/studies/999/trials/0/promote", .post, .notFound, false),
  ]

  @Test("a metric the spec acts on that no trial reports is a warning on the study page")
  func unreportedMetricWarning() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let script = try DashboardFixture.script(daemon)
      let yaml = DashboardFixture.yaml(script: script, trials: 3) + "\nearly_stopping: {rule: median, metric: scores}\n"
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      _ = try await waitForStudy(client, created.id)
      let (_, page, _) = try await client.get("/studies/\(created.id)")
      #expect(
        page.contains(
          "Warning: early_stopping.metric names &#39;scores&#39;, which no trial reported (did you mean &#39;score&#39;?)"
        ), "\(page.prefix(3000))")
    }
  }

  @Test("bad ids and parameters get a clear 4xx page or JSON message, never a crash")
  func badRequests() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      _ = try await DashboardFixture.run(daemon, client, trials: 4)
      for (uri, method, expected, isPage) in Self.badPages {
        try await client.execute(uri: uri, method: method) { response in
          #expect(response.status == expected, "\(method) \(uri) → \(response.status): \(response.text.prefix(200))")
          if isPage {
            #expect(response.headers[.contentType] == "text/html; charset=utf-8", "\(uri)")
            #expect(response.text.contains("role=\"alert\""), "\(uri)")
          } else {
            #expect((try? response.decode(API.ErrorBody.self))?.error.message.isEmpty == false, "\(uri)")
          }
        }
      }
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
    }
  }

  @Test("with a token, a browser logs in once by ?token= or the form and then uses its session cookie")
  func tokenLogin() async throws {
    let daemon = try TestDaemon()
    try await daemon.test(token: "s3cret") { client in
      // Without a token a page is the login form, the API a JSON 401
      let (status, page, _) = try await client.get("/studies/1?x=k")
      #expect(status == .unauthorized && page.contains("<form method=\"post\" action=\"/login\""))
      #expect(page.contains("value=\"/studies/1?x=k\""))
      #expect(try await client.get("/api/v1/studies").0 == .unauthorized)
      // A wrong token is refused
      let (wrong, wrongPage, _) = try await client.get("/?token=nope")
      #expect(wrong == .unauthorized && wrongPage.contains("does not match"))
      // The right one sets an HttpOnly, SameSite=Strict cookie and drops the token from the address
      let (redirect, _, headers) = try await client.get("/studies?token=s3cret&x=1")
      #expect(redirect == .seeOther)
      #expect(headers[.location] == "/studies?x=1")
      let cookie = try #require(headers[.setCookie])
      #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
      let session = String(cookie.prefix { $0 != ";" })
      #expect(try await client.get("/", headers: [.cookie: session]).0 == .ok)
      #expect(try await client.get("/api/v1/studies", headers: [.cookie: session]).0 == .ok)
      // The form does the same
      try await client.execute(
        uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
        body: ByteBuffer(string: "token=s3cret&next=%2Fstudies%2F1")
      ) { response in
        #expect(response.status == .seeOther && response.headers[.location] == "/studies/1")
      }
      try await client.execute(
        uri: "/login", method: .post, body: ByteBuffer(string: "token=bad&next=https%3A%2F%2Fevil.example")
      ) { response in
        #expect(response.status == .unauthorized && response.text.contains("value=\"/\""))
      }
      // Another site cannot use the session to change anything
      try await client.execute(
        uri: "/api/v1/studies/1/cancel", method: .post,
        headers: [.cookie: session, HTTPField.Name("Origin")!: "https://evil.example"]
      ) { #expect($0.status == .forbidden) }
    }
  }
}
