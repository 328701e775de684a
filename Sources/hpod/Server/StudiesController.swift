import Foundation
import HPODAPI
import HTTPTypes
import Hummingbird
import NIOCore
import SearchStrategies
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

/// /api/v1/studies: submit, list, inspect, cancel, pause, resume, trials, best, ask, export.
struct StudiesController {
  let service: StudyService
  let maxBodyBytes: Int

  func add(to group: RouterGroup<AppRequestContext>) {
    group.post("studies", use: submit)
    group.get("studies", use: list)
    group.get("studies/:id", use: get)
    group.post("studies/:id/cancel", use: cancel)
    group.post("studies/:id/pause", use: pause)
    group.post("studies/:id/resume", use: resume)
    group.get("studies/:id/trials", use: trials)
    group.get("studies/:id/best", use: best)
    group.post("studies/:id/ask", use: ask)
    group.get("studies/:id/export", use: export)
    group.get("studies/:id/heatmap", use: heatmap)
  }

  @Sendable func heatmap(request: Request, context: AppRequestContext) async throws -> JSONBody<Heatmap> {
    let id = try context.parameters.require("id", as: Int64.self)
    let query = request.uri.queryParameters
    guard let x = query.get("x"), let y = query.get("y") else {
      throw HTTPError(
        .badRequest, message: "heatmap needs two parameters: ?x=NAME&y=NAME (and optionally metric=, tier=)")
    }
    let study = try service.existing(id)
    do {
      return JSONBody(
        try Heatmap.load(
          database: service.database, study: study, x: x, y: y, metric: query.get("metric"), tier: query.get("tier")))
    } catch let failure as Heatmap.Failure {
      throw ServiceError.badRequest(failure.description)
    }
  }

  @Sendable func submit(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Study> {
    var request = request
    let body = try await request.collectBody(limit: maxBodyBytes)
    let yaml = String(buffer: body)
    let file = request.headers[HTTPField.Name("X-HPOD-Spec-Name")!] ?? "study.yaml"
    let base = request.headers[HTTPField.Name("X-HPOD-Base-Dir")!]
    let study = try await service.submit(yaml: yaml, file: file, baseDirectory: base)
    return JSONBody(API.Study(try await service.describe(study)), status: .created)
  }

  /// Reads on blocking threads (`BlockingWork`): a reader waiting for one of SQLite's reader
  /// connections holds no thread of the task pool, which stays free for /healthz and writes.
  @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONBody<API.StudyList> {
    let service = service
    let described = try await BlockingWork.run {
      try service.database.studies().map { API.Study(try service.describe($0)) }
    }
    return JSONBody(API.StudyList(studies: described))
  }

  @Sendable func get(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Study> {
    let id = try context.parameters.require("id", as: Int64.self)
    let service = service
    return JSONBody(try await BlockingWork.run { API.Study(try service.describe(id)) })
  }

  @Sendable func cancel(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Study> {
    let id = try context.parameters.require("id", as: Int64.self)
    let study = try await service.cancel(id)
    return JSONBody(API.Study(try await service.describe(study)))
  }

  @Sendable func pause(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Study> {
    let id = try context.parameters.require("id", as: Int64.self)
    let study = try await service.pause(id)
    return JSONBody(API.Study(try await service.describe(study)))
  }

  @Sendable func resume(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Study> {
    let id = try context.parameters.require("id", as: Int64.self)
    let study = try await service.resume(id)
    return JSONBody(API.Study(try await service.describe(study)))
  }

  @Sendable func trials(request: Request, context: AppRequestContext) async throws -> JSONBody<API.TrialList> {
    let id = try context.parameters.require("id", as: Int64.self)
    let query = request.uri.queryParameters
    let study = try await service.existing(id)
    let state = try query.get("state").map { text in
      guard let state = TrialState(rawValue: text) else {
        throw ServiceError.badRequest(
          "state must be one of \(TrialState.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      return state
    }
    let tier = try query.get("tier").map { text in
      guard let tier = Tier(rawValue: text) else {
        throw ServiceError.badRequest("tier must be quick_test or full_training")
      }
      return tier
    }
    let sort = query.get("sort") ?? "number"
    guard let order = AppDatabase.TrialOrder(rawValue: sort) else {
      throw ServiceError.badRequest("sort must be number, value or duration, found \"\(sort)\"")
    }
    let limit = try query.get("limit").map { text in
      guard let n = Int(text), (1...1_000_000_000).contains(n) else {
        throw ServiceError.badRequest("limit must be a whole number from 1 to 1000000000, found \"\(text)\"")
      }
      return n
    }
    let direction = query.get("order") ?? "asc"
    guard ["asc", "desc"].contains(direction) else {
      throw ServiceError.badRequest("order must be asc or desc, found \"\(direction)\"")
    }
    let trials = try service.database.trials(
      studyId: id, state: state, tier: tier, order: order, higherIsBetter: study.direction == .maximize,
      descending: direction == "desc", limit: limit)
    let summaries = try service.database.repeatSummaries(studyId: id)
    // The attempts before a listed trial may be filtered out of the list: read them all.
    let times = AttemptTime.of(
      state == nil && tier == nil && limit == nil ? trials : try service.database.trials(studyId: id))
    return JSONBody(
      API.TrialList(
        trials: trials.map { trial in
          API.Trial(
            trial, configurationValue: trial.configurationId.flatMap { summaries[$0] },
            time: trial.id.flatMap { times[$0] })
        }))
  }

  /// The best trial; for a study of several objectives, its Pareto front (`API.Front`).
  @Sendable func best(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let described = try await service.describe(id)
    if described.spec?.isMultiObjective == true {
      let front = try service.front(of: id)
      guard !front.members.isEmpty else {
        throw ServiceError.notFound(
          "study \(id) has no completed feasible trial yet\(front.infeasible > 0 ? " (\(front.infeasible) broke a constraint)" : "")"
        )
      }
      return try JSONBody(API.Front(front)).response(from: request, context: context)
    }
    guard let best = API.Study(described).best else {
      throw ServiceError.notFound("study \(id) has no completed trial yet")
    }
    return try JSONBody(best).response(from: request, context: context)
  }

  @Sendable func ask(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Trial> {
    let id = try context.parameters.require("id", as: Int64.self)
    return JSONBody(API.Trial(try await service.ask(id)), status: .created)
  }

  @Sendable func export(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let format = request.uri.queryParameters.get("format") ?? "csv"
    _ = try await service.existing(id)
    let rows = try RunExport.rows(database: service.database, studyId: id)
    switch format {
    case "csv":
      return Response(
        status: .ok,
        headers: [
          .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"study-\(id).csv\"",
        ],
        body: .init(byteBuffer: ByteBuffer(string: RunExport.csv(rows))))
    case "json":
      return try JSONBody(rows).response(from: request, context: context)
    default:
      throw ServiceError.badRequest("format must be csv or json, found \"\(format)\"")
    }
  }
}
