import Foundation
import HPODAPI
import Hummingbird
import NIOCore
import TrackingBridge
import TrialScheduler

/// /api/v1/trials: detail with metric history and log tail, one metric's history, logs, tell.
struct TrialsController {
  let service: StudyService
  let maxBodyBytes: Int

  func add(to group: RouterGroup<AppRequestContext>) {
    group.get("trials/:id", use: get)
    group.get("trials/:id/metrics/:name", use: metric)
    group.get("trials/:id/log", use: log)
    // A trial as users name it: its study and its number in the study.
    group.get("studies/:id/trials/:number/log", use: numberedLog)
    group.post("studies/:id/trials/:number/pause", use: pause)
    group.post("studies/:id/trials/:number/resume", use: resume)
    group.post("trials/:id/tell", use: tell)
  }

  func trial(_ context: AppRequestContext) throws -> TrialRecord {
    let id = try context.parameters.require("id", as: Int64.self)
    guard let trial = try service.database.trial(id: id) else {
      throw HTTPError(.notFound, message: "trial \(id) not found")
    }
    return trial
  }

  @Sendable func pause(request: Request, context: AppRequestContext) async throws -> JSONBody<API.TrialPause> {
    let (id, number) = try numbered(context)
    let outcome = try await service.pauseTrial(id, number: number)
    return JSONBody(API.TrialPause(trial: API.Trial(outcome.trial), message: outcome.message), status: .accepted)
  }

  @Sendable func resume(request: Request, context: AppRequestContext) async throws -> JSONBody<API.TrialPause> {
    let (id, number) = try numbered(context)
    let outcome = try await service.resumeTrial(id, number: number)
    return JSONBody(API.TrialPause(trial: API.Trial(outcome.trial), message: outcome.message), status: .accepted)
  }

  /// A trial as users name it: `studies/{id}/trials/{number}`.
  private func numbered(_ context: AppRequestContext) throws -> (Int64, Int) {
    (try context.parameters.require("id", as: Int64.self), try context.parameters.require("number", as: Int.self))
  }

  @Sendable func get(request: Request, context: AppRequestContext) async throws -> JSONBody<API.TrialDetail> {
    let trial = try trial(context)
    let points = try service.database.metrics(trialId: trial.id!)
    let metrics = Dictionary(grouping: points, by: \.name).mapValues { points in
      points.map { API.Point(step: $0.step, value: $0.value, timestamp: $0.timestamp) }
    }
    let tails = Dictionary(
      uniqueKeysWithValues: LogStream.allCases.map { ($0.rawValue, LogTail.read(trial, $0, lines: 20)) })
    return JSONBody(
      API.TrialDetail(
        trial: API.Trial(
          trial,
          time: trial.startedAt == nil ? nil : AttemptTime.of(chain: try service.database.attempts(endingWith: trial))),
        metrics: metrics, tags: try service.database.tags(trialId: trial.id!), logTail: tails))
  }

  struct MetricHistory: Codable, Sendable {
    var name: String
    var points: [API.Point]
  }

  @Sendable func metric(request: Request, context: AppRequestContext) async throws -> JSONBody<MetricHistory> {
    let trial = try trial(context)
    let name = try context.parameters.require("name")
    let points = try service.database.metrics(trialId: trial.id!, name: name)
    guard !points.isEmpty else {
      throw HTTPError(.notFound, message: "trial \(trial.number) has no metric named '\(name)'")
    }
    return JSONBody(
      MetricHistory(
        name: name, points: points.map { API.Point(step: $0.step, value: $0.value, timestamp: $0.timestamp) }))
  }

  /// Trial `number` of study `id`.
  func numberedTrial(_ context: AppRequestContext) throws -> TrialRecord {
    let studyId = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    _ = try service.existing(studyId)
    guard let trial = try service.database.trial(studyId: studyId, number: number) else {
      throw HTTPError(.notFound, message: "study \(studyId) has no trial \(number)")
    }
    return trial
  }

  @Sendable func numberedLog(request: Request, context: AppRequestContext) async throws -> Response {
    try logTail(of: try numberedTrial(context), request)
  }

  @Sendable func log(request: Request, context: AppRequestContext) async throws -> Response {
    try logTail(of: try trial(context), request)
  }

  func logTail(of trial: TrialRecord, _ request: Request) throws -> Response {
    let query = request.uri.queryParameters
    guard let stream = LogStream(rawValue: query.get("stream") ?? "stdout") else {
      throw HTTPError(.badRequest, message: "stream must be stdout or stderr")
    }
    let lines =
      try query.get("tail").map { text -> Int in
        guard let n = Int(text), n > 0, n <= 100_000 else {
          throw HTTPError(.badRequest, message: "tail must be a whole number from 1 to 100000")
        }
        return n
      } ?? 200
    return Response(
      status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
      body: .init(byteBuffer: ByteBuffer(string: LogTail.read(trial, stream, lines: lines))))
  }

  @Sendable func tell(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Trial> {
    let id = try context.parameters.require("id", as: Int64.self)
    var request = request
    let body = try await request.collectBody(limit: maxBodyBytes)
    let tell = try API.decoder.decode(API.Tell.self, from: Data(buffer: body))
    return JSONBody(API.Trial(try await service.tell(id, try tell.report())))
  }
}

enum LogStream: String, CaseIterable {
  case stdout
  case stderr
}

/// The last lines of a trial's log. The path is built from the trial's own folder and a fixed
/// file name, never from the request, so no request can read outside it.
enum LogTail {
  static func read(_ trial: TrialRecord, _ stream: LogStream, lines: Int) -> String {
    guard let directory = trial.runDirectory, !directory.isEmpty,
      let handle = FileHandle(forReadingAtPath: "\(directory)/\(stream.rawValue).log")
    else { return "" }
    defer { try? handle.close() }
    let size = (try? handle.seekToEnd()) ?? 0
    let window = UInt64(min(Int(size), max(4096, lines * 512)))
    try? handle.seek(toOffset: size - window)
    let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    var all = text.split(separator: "\n", omittingEmptySubsequences: false)
    if window < size, !all.isEmpty { all.removeFirst() }  // a partial first line
    if all.last == "" { all.removeLast() }
    return all.suffix(lines).joined(separator: "\n") + (all.isEmpty ? "" : "\n")
  }
}
