import Foundation
import SearchStrategies
import StudyModel
import Testing
import TrackingBridge

@testable import StudyAnalysis

@Suite("Heatmap")
struct HeatmapTests {
  func trial(_ id: Int64, _ params: String, _ value: Double?, state: TrialState = .completed, tier: Tier = .quickTest)
    -> TrialRecord
  {
    var trial = TrialRecord(studyId: 1, number: Int(id), tier: tier, state: state, paramsJSON: params, value: value)
    trial.id = id
    return trial
  }

  @Test(
    "categoricals stay as they are, each cell keeps its best value, the best cell and the registered one are marked")
  func categoricalCells() throws {
    let trials = [
      trial(1, #"{"cross":"none","dim":16}"#, 0.40),
      trial(2, #"{"cross":"none","dim":16}"#, 0.45),
      trial(3, #"{"cross":"both","dim":64}"#, 0.55),
      trial(4, #"{"cross":"both","dim":16}"#, 0.50),
      trial(5, #"{"cross":"both","dim":64}"#, 0.99, state: .pruned),
      trial(6, #"{"cross":"both","dim":64}"#, 0.60, tier: .fullTraining),
    ]
    let map = try Heatmap.compute(
      trials: trials, metrics: [:], x: "dim", y: "cross", metric: "recall", objective: "recall", direction: .maximize,
      tier: .quickTest, registered: [3])
    #expect(map.x.labels == ["16", "64"])
    #expect(map.y.labels == ["both", "none"])
    let cells = Dictionary(uniqueKeysWithValues: map.cells.map { ("\($0.x),\($0.y)", $0) })
    #expect(cells["0,1"]?.value == 0.45 && cells["0,1"]?.count == 2 && cells["0,1"]?.trial == 2)
    #expect(cells["1,0"]?.value == 0.55)  // the pruned 0.99 and the full training do not count
    #expect(map.cells[map.best!].trial == 3 && map.cells[map.best!].registered)
    #expect(cells["1,1"] == nil)
  }

  @Test("many numeric values are binned, in log space when they span orders of magnitude")
  func numericBins() throws {
    let trials = (0..<30).map { i in
      trial(Int64(i), #"{"lr":\#(pow(10, -4 + Double(i) * 3 / 29)),"k":\#(i % 3)}"#, Double(i))
    }
    let map = try Heatmap.compute(
      trials: trials, metrics: [:], x: "lr", y: "k", metric: "loss", objective: "loss", direction: .minimize, tier: nil,
      registered: [])
    #expect(map.x.labels.count == 6)
    #expect(map.x.labels.first == "0.0001–0.00032")
    #expect(map.cells.map(\.count).reduce(0, +) == 30)
    #expect(map.cells[map.best!].value == 0)
  }

  @Test("an unknown parameter says which parameters there are")
  func unknownParameter() {
    #expect {
      _ = try Heatmap.compute(
        trials: [trial(1, #"{"a":1}"#, 1)], metrics: [:], x: "a", y: "b", metric: "m", objective: "m",
        direction: .minimize, tier: nil, registered: [])
    } throws: { error in
      "\(error)" == "no completed trial has parameter 'b'; parameters: a"
    }
  }
}
