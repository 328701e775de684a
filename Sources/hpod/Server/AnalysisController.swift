import Foundation
import HPODAPI
import Hummingbird
import SearchStrategies
import StudyAnalysis
import TrackingBridge
import TrialScheduler

/// /api/v1/studies/{id}/compare, /importance and /trials/{number}/promote: the dashboard's
/// analysis as JSON, and the full training requested by hand.
struct AnalysisController {
  let service: StudyService
  let snapshots: SnapshotCache

  func add(to group: RouterGroup<AppRequestContext>) {
    group.get("studies/:id/compare", use: compare)
    group.get("studies/:id/importance", use: importance)
    group.post("studies/:id/trials/:number/promote", use: promote)
  }

  func snapshot(_ context: AppRequestContext) async throws -> StudySnapshot {
    let id = try context.parameters.require("id", as: Int64.self)
    return try await mapped { try snapshots.snapshot(of: id, service: service) }
  }

  @Sendable func compare(request: Request, context: AppRequestContext) async throws -> JSONBody<RunComparison> {
    let snapshot = try await snapshot(context)
    let runs = try ComparePage.runs(DashboardQuery(request).all("trials"), in: snapshot)
    return JSONBody(try ComparePage.compare(runs, in: snapshot))
  }

  struct Importance: Codable, Sendable {
    var studyId: Int64
    var metric: String
    var direction: String
    var tier: String
    var parameters: [ParameterImportance]

    enum CodingKeys: String, CodingKey {
      case studyId = "study_id"
      case metric, direction, tier, parameters
    }
  }

  @Sendable func importance(request: Request, context: AppRequestContext) async throws -> JSONBody<Importance> {
    let snapshot = try await snapshot(context)
    let tierName = request.uri.queryParameters.get("tier") ?? "quick_test"
    let tier: Tier?
    switch tierName {
    case "all": tier = nil
    default:
      guard let parsed = Tier(rawValue: tierName) else {
        throw HTTPError(.badRequest, message: "tier must be quick_test, full_training or all, found \"\(tierName)\"")
      }
      tier = parsed
    }
    return JSONBody(
      Importance(
        studyId: snapshot.id, metric: snapshot.objective, direction: snapshot.direction.rawValue, tier: tierName,
        parameters: ParameterImportance.compute(
          trials: snapshot.trials, direction: snapshot.direction, tier: tier, configurations: snapshot.configurations)))
  }

  @Sendable func promote(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Promotion> {
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    return try await mapped {
      let answer = API.Promotion(try await service.promote(id, trialNumber: number))
      return JSONBody(answer, status: answer.requested ? .accepted : .ok)
    }
  }
}
