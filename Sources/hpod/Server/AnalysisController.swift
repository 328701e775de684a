import Foundation
import HPODAPI
import Hummingbird
import NIOCore
import SearchStrategies
import StudyAnalysis
import TrackingBridge
import TrialScheduler

/// /api/v1/studies/{id}/compare, /importance, /trials/{number}/promote and /repeats: the
/// dashboard's analysis as JSON, and the full trainings and repeats requested by hand.
struct AnalysisController {
  let service: StudyService
  let snapshots: SnapshotCache
  var maxBodyBytes = 1 << 20

  func add(to group: RouterGroup<AppRequestContext>) {
    group.get("studies/:id/compare", use: compare)
    group.post("studies/:id/compare", use: compareBody)
    group.get("studies/:id/importance", use: importance)
    group.post("studies/:id/trials/:number/promote", use: promote)
    group.post("studies/:id/trials/:number/repeats", use: repeats)
  }

  func snapshot(_ context: AppRequestContext) async throws -> StudySnapshot {
    let id = try context.parameters.require("id", as: Int64.self)
    return try snapshots.snapshot(of: id, service: service)
  }

  @Sendable func compare(request: Request, context: AppRequestContext) async throws -> JSONBody<RunComparison> {
    let snapshot = try await snapshot(context)
    let runs = try ComparePage.runs(DashboardQuery(request).all("trials"), in: snapshot)
    return JSONBody(try ComparePage.compare(runs, in: snapshot))
  }

  /// `{"trials": [3, 7]}`.
  struct CompareRequest: Codable, Sendable {
    var trials: [Int]
  }

  @Sendable func compareBody(request: Request, context: AppRequestContext) async throws -> JSONBody<RunComparison> {
    let snapshot = try await snapshot(context)
    var request = request
    let body = try await request.collectBody(limit: maxBodyBytes)
    let asked = try API.decoder.decode(CompareRequest.self, from: Data(buffer: body))
    let runs = try ComparePage.runs(asked.trials.map(String.init), in: snapshot)
    return JSONBody(try ComparePage.compare(runs, in: snapshot))
  }

  /// `{"repeats": 5}`: how many repeats the configuration should have in all; without a body,
  /// two more than it has.
  struct RepeatsRequest: Codable, Sendable {
    var repeats: Int?
  }

  @Sendable func repeats(request: Request, context: AppRequestContext) async throws -> JSONBody<API.RepeatRequest> {
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    var request = request
    let body = try await request.collectBody(limit: maxBodyBytes)
    let asked =
      body.readableBytes == 0 ? RepeatsRequest() : try API.decoder.decode(RepeatsRequest.self, from: Data(buffer: body))
    let answer = API.RepeatRequest(
      try await service.requestRepeats(id, trialNumber: number, repeats: asked.repeats))
    return JSONBody(answer, status: answer.requested ? .accepted : .ok)
  }

  struct Importance: Codable, Sendable {
    var studyId: Int64
    var metric: String
    var direction: String
    var tier: String
    var method: String
    var parameters: [ParameterImportance]

    enum CodingKeys: String, CodingKey {
      case studyId = "study_id"
      case metric, direction, tier, method, parameters
    }
  }

  /// `?metric=` (default: the objective), `?tier=` (quick_test, full_training or all) and
  /// `?method=` (fanova, the default, or spearman).
  @Sendable func importance(request: Request, context: AppRequestContext) async throws -> JSONBody<Importance> {
    let snapshot = try await snapshot(context)
    let parameters = request.uri.queryParameters
    let asked: ImportanceRequest
    do {
      asked = try ImportanceRequest(
        metric: parameters.get("metric"), tier: parameters.get("tier"), method: parameters.get("method"),
        study: snapshot.study, spec: snapshot.spec, metrics: snapshot.metricNames)
    } catch {
      throw HTTPError(.badRequest, message: error.description)
    }
    // A forest per request (fANOVA): on threads of its own, not on the task pool.
    let ranked = try await ComputeWork.run { snapshot.importance(asked) }
    return JSONBody(
      Importance(
        studyId: snapshot.id, metric: asked.metric, direction: asked.direction.rawValue, tier: asked.tierName,
        method: asked.method.rawValue, parameters: ranked))
  }

  @Sendable func promote(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Promotion> {
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    let answer = API.Promotion(try await service.promote(id, trialNumber: number))
    return JSONBody(answer, status: answer.requested ? .accepted : .ok)
  }
}
