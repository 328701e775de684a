import Foundation
import GRDB
import Testing

@testable import TrackingBridge

/// The search filter's matcher and the search cache, at the sizes an attacker picks.
@Suite("Tracking search limits")
struct TrackingSearchLimitsTests {
  @Test("LIKE and ILIKE match as SQLite's own LIKE does, on thousands of generated texts and patterns")
  func likeAgreesWithSQLite() throws {
    let database = try DatabaseQueue()
    var random = SystemRandomNumberGenerator()
    let textLetters: [Character] = ["a", "b", "A"]
    let patternLetters: [Character] = ["a", "b", "B", "%", "_"]
    try database.read { db in
      for _ in 0..<3_000 {
        let text = String((0..<Int.random(in: 0...12, using: &random)).map { _ in textLetters.randomElement()! })
        let pattern = String(
          (0..<Int.random(in: 0...8, using: &random)).map { _ in patternLetters.randomElement()! })
        // SQLite's LIKE ignores ASCII case: it is ILIKE.
        let sqlite = try Bool.fetchOne(db, sql: "SELECT ? LIKE ?", arguments: [text, pattern])!
        #expect(RunFilter.like(text, pattern, caseSensitive: false) == sqlite, "'\(text)' ILIKE '\(pattern)'")
        let exact = try Bool.fetchOne(
          db, sql: "SELECT ? LIKE ? AND ? GLOB ?",
          arguments: [
            text, pattern, text,
            pattern.replacingOccurrences(of: "%", with: "*").replacingOccurrences(of: "_", with: "?"),
          ])!
        #expect(RunFilter.like(text, pattern, caseSensitive: true) == exact, "'\(text)' LIKE '\(pattern)'")
      }
    }
  }

  @Test("a pattern of 100,000 characters is matched in one pass, without recursion")
  func hugePatterns() throws {
    let text = String(repeating: "ab", count: 4_000)
    let started = Date()
    #expect(RunFilter.like(text, String(repeating: "%", count: 100_000), caseSensitive: true))
    #expect(!RunFilter.like(text, String(repeating: "%a%b", count: 25_000) + "%c", caseSensitive: false))
    #expect(RunFilter.like(text, String(repeating: "%a_", count: 4_000), caseSensitive: true))
    #expect(Date().timeIntervalSince(started) < 5)
  }

  @Test("a filter over the length or clause limit is refused with MLflow's INVALID_PARAMETER_VALUE")
  func filterLimits() throws {
    #expect(throws: TrackingError.self) { try RunFilter("name LIKE '" + String(repeating: "%", count: 20_000) + "'") }
    let clauses = Array(repeating: "params.a = 'b'", count: RunFilter.maxClauses + 1).joined(separator: " and ")
    do {
      _ = try RunFilter(clauses)
      Issue.record("\(RunFilter.maxClauses + 1) clauses were accepted")
    } catch let error as TrackingError {
      #expect(error.code == .invalidParameterValue && error.message.contains("at most 100"))
    }
    let most = Array(repeating: "params.a = 'b'", count: RunFilter.maxClauses).joined(separator: " and ")
    #expect(try RunFilter(most).clauses.count == RunFilter.maxClauses)
  }

  static func run(_ index: Int, tagBytes: Int) -> TrackingRun {
    TrackingRun(
      runId: "run-\(index)", experimentId: 0, name: "run \(index)", userId: "u", status: "FINISHED", startTime: 0,
      endTime: 1, lifecycleStage: "active", params: ["p": "1"], metrics: [:],
      tags: ["big": String(repeating: "x", count: tagBytes)])
  }

  @Test("the search cache keeps results within its byte budget, the newest first")
  func cacheBudget() {
    var cache = SearchCache()
    // Results of about 4 MB each: 16 fit in 64 MB, not 40
    let result = (0..<40).map { Self.run($0, tagBytes: 100_000) }
    for query in 0..<40 {
      cache.keep(result, for: "query \(query)")
      #expect(cache.bytes <= SearchCache.budgetBytes)
    }
    #expect(cache.runs(for: "query 39")?.count == 40)
    #expect(cache.runs(for: "query 0") == nil)
    // A result larger than the whole budget is not kept
    let huge = (0..<700).map { Self.run($0, tagBytes: 100_000) }
    cache.keep(huge, for: "huge")
    #expect(cache.runs(for: "huge") == nil)
    #expect(cache.bytes <= SearchCache.budgetBytes)
    // and an old result is not used
    cache.keep(result, for: "old", now: Date().addingTimeInterval(-SearchCache.lifetime - 1))
    #expect(cache.runs(for: "old") == nil)
  }
}
