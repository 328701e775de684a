import Foundation
import HPODAPI
import Testing
import TrackingBridge
import TrialScheduler

@Suite("Event stream coding")
struct EventCodingTests {
  static let trial: API.Trial = {
    var record = TrialRecord(
      id: 7, studyId: 3, number: 2, tier: .quickTest, state: .pruned, paramsJSON: #"{"lr":0.1,"opt":"adam"}"#,
      value: 0.5, createdAt: Date(timeIntervalSince1970: 1_700_000_000))
    record.reason = "median rule at step 3"
    return API.Trial(record)
  }()
  static let study = API.Study(
    StudyRecord(
      id: 3, name: "s", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "f1", direction: .maximize,
      createdAt: Date(timeIntervalSince1970: 1_700_000_000), updatedAt: Date(timeIntervalSince1970: 1_700_000_000)),
    spec: nil, summary: nil)

  static let bodies: [API.Event.Body] = [
    .studyStarted(study: study, keptTrials: 2, rerunTrials: 1),
    .trialStarted(trial),
    .trialMetrics(trialId: 7, number: 2, step: 4, values: ["loss": 0.25, "acc": 0.9]),
    .trialWaiting(trialId: 7, number: 2, reason: "waiting in Slurm's queue: its nodes are down or drained"),
    .trialWaiting(trialId: 7, number: 2, reason: nil),
    .trialFinished(trial),
    .trialPruned(trial),
    .trialPromoted(quickTest: trial, fullTraining: trial),
    .modelRegistered(model: "m", version: 3, conditions: "f1 >= 0.5", trial: trial),
    .registrationSkipped(trial, reason: "f1 0.4 < 0.5"),
    .promotionJudged(
      trial, promoted: false, reason: "not promoted: trial 2 is ahead of trial 5 by 0.01 ± 0.02, p = 0.4"),
    .studyPaused(reason: "the disk is full"),
    .studyResumed(pausedFor: "the disk is full"),
    .studyWarning(message: "early_stopping.metric 'val_los' is reported by no trial"),
    .studyFinished(study),
    .lagged(dropped: 12),
  ]

  @Test("every event decodes back to itself from the text the server sends")
  func roundTrip() throws {
    for body in Self.bodies {
      let event = API.Event(studyId: body == .lagged(dropped: 12) ? nil : 3, body: body)
      let text = event.serverSentEvent
      let lines = text.split(separator: "\n")
      #expect(lines.count == 2 && text.hasSuffix("\n\n"), "\(text)")
      #expect(lines[0] == "event: \(event.type)")
      let data = Data(lines[1].dropFirst("data: ".count).utf8)
      #expect(try API.Event(type: event.type, data: data) == event, "\(text)")
    }
  }

  @Test("the wire names are the documented ones, with the fields a dashboard reads")
  func wireShape() throws {
    let metrics = API.Event(studyId: 3, body: .trialMetrics(trialId: 7, number: 2, step: 4, values: ["loss": 0.25]))
    #expect(
      metrics.serverSentEvent
        == "event: trial_metrics\ndata: {\"number\":2,\"step\":4,\"study_id\":3,\"trial_id\":7,\"values\":{\"loss\":0.25}}\n\n"
    )
    let resumed = API.Event(studyId: 3, body: .studyResumed(pausedFor: "full"))
    #expect(String(decoding: resumed.data, as: UTF8.self) == #"{"paused_for":"full","study_id":3}"#)
    #expect(
      API.Event(studyId: nil, body: .lagged(dropped: 5)).serverSentEvent == "event: lagged\ndata: {\"dropped\":5}\n\n")
  }

  @Test("an unknown type is skipped; a known one without its fields is an error that names the field")
  func unknownAndIncomplete() throws {
    #expect(try API.Event(type: "trial_teleported", data: Data(#"{"study_id":1}"#.utf8)) == nil)
    #expect {
      _ = try API.Event(type: "trial_metrics", data: Data(#"{"study_id":1,"trial_id":2,"number":0,"step":1}"#.utf8))
    } throws: { error in
      "\(error)".contains("a trial_metrics event needs")
    }
  }
}
