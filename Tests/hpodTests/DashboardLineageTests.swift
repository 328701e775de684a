import Foundation
import HPODAPI
import HummingbirdTesting
import NIOCore
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

/// Population-based training's lineage on the dashboard, for a real PBT study run by the
/// daemon (real processes copying real checkpoints), read over HTTP.
@Suite("Dashboard PBT lineage")
struct DashboardLineageTests {
  /// The PBT paper's toy (as `PopulationBasedTrainingStudyTests` runs it): θ and the step are
  /// the checkpoint, saved before each report; it prints the checkpoint step it resumed from.
  static func toy(_ daemon: TestDaemon) throws -> String {
    try daemon.script(
      "toy.sh",
      #"""
      h0=$1 h1=$2
      state="0 0.9 0.9"
      if [ -n "$HPOD_CHECKPOINT" ]; then state=$(cat "$HPOD_CHECKPOINT"); fi
      echo "from=${HPOD_CHECKPOINT_STEP:-none}"
      set -- $state
      step=$1 t0=$2 t1=$3
      while [ $step -lt 16 ]; do
        step=$((step + 1))
        set -- $(awk -v a=$t0 -v b=$t1 -v h0=$h0 -v h1=$h1 'BEGIN {
          a -= 0.2 * h0 * a; b -= 0.2 * h1 * b; printf "%.6f %.6f %.6f", a, b, 1.2 - (a * a + b * b) }')
        t0=$1 t1=$2
        echo "$step $t0 $t1" > "$HPOD_CHECKPOINT_DIR/theta-$step.tmp"
        mv "$HPOD_CHECKPOINT_DIR/theta-$step.tmp" "$HPOD_CHECKPOINT_DIR/theta-$step"
        echo "hpod {\"step\": $step, \"score\": $3, \"checkpoint\": \"theta-$step\"}"
        sleep 0.05
      done
      """#)
  }

  @Test(
    "a PBT study's page shows each slot's members and every copy (step, donor, history copied, parameters explored); a run's page what it continues and what replaced it",
    .timeLimit(.minutes(2)))
  func lineageShown() async throws {
    let daemon = try TestDaemon()
    let database = daemon.service.database
    let yaml = """
      name: pbt-lineage
      objective: {metric: score, direction: maximize}
      search: {algorithm: pbt, seed: 7, population: 4, parallelism: 2, perturbation_interval: 4, resample_probability: 0}
      parameters:
        h0: {type: float, min: 0, max: 1}
        h1: {type: float, min: 0, max: 1}
      trial: {command: [\(try Self.toy(daemon)), "{h0}", "{h1}"], stop_grace_period: 1s}
      checkpoint: {keep: 1}
      """
    try await daemon.test { client in
      // Given a PBT study run to its end, some of whose members were replaced
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      let study = try await waitForStudy(client, created.id, seconds: 60)
      #expect(study.state == "completed", "\(study.stateReason ?? "")")
      let id = created.id
      let trials = try database.trials(studyId: id)
      let children = try trials.filter { try database.tags(trialId: $0.id!)[HpodTag.pbtDonor] != nil }
      try #require(!children.isEmpty, "no member was replaced: \(trials.map { ($0.number, $0.state) })")

      // When the study page is read
      let (_, page, _) = try await client.get("/studies/\(id)")
      // Then it has the lineage: the four slots, and a row per copy that links its three trials
      #expect(page.contains("<h2 id=\"lineage-title\">Population lineage</h2>"))
      #expect(page.components(separatedBy: "<li data-slot=").count - 1 == 4)
      let run = { (number: Int) in "<a href=\"/studies/\(id)/runs/\(number)\">trial \(number)</a>" }
      for child in children {
        let tags = try database.tags(trialId: child.id!)
        let parent = try #require(tags[HpodTag.pbtParent].flatMap { Int($0) })
        let donor = try #require(tags[HpodTag.pbtDonor].flatMap { Int($0) })
        let replaced = try #require(trials.first { $0.number == parent })
        let step = try #require(try database.tags(trialId: replaced.id!)[HpodTag.pruneStep])
        let row = try #require(
          page.components(separatedBy: "<tr data-trial=\"\(child.number)\">").dropFirst().first?
            .components(separatedBy: "</tr>").first, "no row for trial \(child.number)")
        #expect(row.hasPrefix("<td class=\"num\">\(step)</td>"), "\(row)")
        #expect(row.contains(run(parent)) && row.contains(run(donor)) && row.contains(run(child.number)), "\(row)")
        #expect(row.contains(HTML.escape(try #require(tags[HpodTag.pbtExplore]))), "\(row)")
        // (the slot of the member replaced goes on with its replacement)
        #expect(
          page.contains(
            "replaced at step \(step)</small> → \(run(child.number)) <small>(copy of \(run(donor)))</small>"))

        // And the replacement's run page says what it continues, from which step, and what changed
        let (_, childPage, _) = try await client.get("/studies/\(id)/runs/\(child.number)")
        let log = try String(contentsOfFile: "\(child.runDirectory!)/stdout.log", encoding: .utf8)
        let from = try #require(log.split(separator: "\n").first.map { String($0.dropFirst("from=".count)) })
        #expect(
          childPage.contains(
            "Replaces member \(run(parent)) stopped at step \(step): continues the checkpoint of \(run(donor)) (its history up to step \(from) copied with it)"
          ), "resumed from step \(from): \(childPage.components(separatedBy: "pbt-title").last?.prefix(600) ?? "")")
        let params = try JSONDecoder().decode([String: Double].self, from: Data(child.paramsJSON.utf8))
        let donorParams = try JSONDecoder().decode(
          [String: Double].self, from: Data(try #require(trials.first { $0.number == donor }).paramsJSON.utf8))
        let changed = ["h0", "h1"].filter { params[$0] != donorParams[$0] }
        #expect(
          childPage.components(separatedBy: "<tr class=\"changed\"><th scope=\"row\">").count - 1 == changed.count,
          "\(changed)")
        // And the member it replaced links to it
        let (_, replacedPage, _) = try await client.get("/studies/\(id)/runs/\(parent)")
        #expect(
          replacedPage.contains(
            "Replaced at step \(step) by \(run(child.number)), a copy of the checkpoint of \(run(donor))."))
      }
      // And a first member that was never replaced says so
      let copied = Set(children.compactMap(\.id))
      let replacedIds = Set(trials.filter { $0.state == .pruned }.compactMap(\.id))
      if let untouched = trials.first(where: { !copied.contains($0.id!) && !replacedIds.contains($0.id!) }) {
        let (_, untouchedPage, _) = try await client.get("/studies/\(id)/runs/\(untouched.number)")
        #expect(untouchedPage.contains("A first member of the population: it was not copied from another."))
      }
      // And the lineage is a part of its own, which the page refreshes live
      let (status, part, _) = try await client.get("/studies/\(id)?part=lineage")
      #expect(status == .ok && part.contains("<table class=\"lineage\">"))
      #expect(page.contains("data-live-parts=\"lineage "))
    }
  }
}
