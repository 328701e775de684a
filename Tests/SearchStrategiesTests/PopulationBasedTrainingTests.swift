import StudyModel
import Testing

@testable import SearchStrategies

@Suite("Population-based training's exploit and explore")
struct PopulationBasedTrainingTests {
  let training = PopulationBasedTraining(
    population: 8, perturbationInterval: 4, quantileFraction: 0.25, resampleProbability: 0,
    perturbationFactors: [0.8, 1.2])

  func members(_ values: [Double]) -> [PopulationBasedTraining.Member] {
    values.enumerated().map { .init(id: Int64($0.offset), value: $0.element) }
  }

  @Test("only a member in the bottom quantile copies, and always one of the top quantile")
  func bottomCopiesTop() {
    let population = members([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])  // ids 0...7, best first
    #expect(training.quantileSize(of: 8) == 2)
    for seed in 0..<50 {
      var rng = SplitMix64(seed: UInt64(seed))
      for member in Int64(0)...5 {
        #expect(training.donor(for: member, among: population, direction: .maximize, using: &rng) == nil)
      }
      for member in Int64(6)...7 {
        let donor = training.donor(for: member, among: population, direction: .maximize, using: &rng)
        #expect(donor == 0 || donor == 1)
      }
    }
    // lower is better: the order turns round
    var rng = SplitMix64(seed: 1)
    #expect(training.donor(for: 0, among: population, direction: .minimize, using: &rng).map { $0 >= 6 } == true)
  }

  @Test("a population of one has no quantiles; at most half the population is ever at the bottom")
  func quantileBounds() {
    var rng = SplitMix64(seed: 3)
    #expect(training.donor(for: 0, among: members([0.5]), direction: .maximize, using: &rng) == nil)
    let half = PopulationBasedTraining(population: 4, perturbationInterval: 1, quantileFraction: 0.5)
    #expect(half.quantileSize(of: 3) == 1)
    #expect(half.quantileSize(of: 4) == 2)
  }

  @Test("explore multiplies numbers by a factor inside the bounds, moves an int at least a step, shifts a category")
  func exploreStaysInSpace() throws {
    let space = SearchSpace([
      Parameter(name: "lr", domain: .float(min: 1e-4, max: 0.1, log: true, step: nil)),
      Parameter(name: "layers", domain: .int(min: 1, max: 4, log: false, step: 1)),
      Parameter(name: "act", domain: .categorical([.string("relu"), .string("tanh"), .string("gelu")])),
    ])
    let donor = Configuration(["lr": .double(0.1), "layers": .int(2), "act": .string("tanh")])
    for seed in 0..<100 {
      var rng = SplitMix64(seed: UInt64(seed))
      let (explored, changes) = training.explore(donor, in: space, using: &rng)
      #expect(space.isValid(explored))
      let lr = try #require(explored["lr"]?.numericValue)
      #expect(abs(lr - 0.08) < 1e-12 || lr == 0.1, "0.1 × 0.8, or 0.1 × 1.2 kept at the bound: \(lr)")
      #expect(explored["layers"] == .int(1) || explored["layers"] == .int(3), "2 × 0.8 and 2 × 1.2 round to 2")
      #expect(explored["act"] == .string("relu") || explored["act"] == .string("gelu"))
      #expect(changes.contains { $0.hasPrefix("layers 2 → ") })
    }
  }

  @Test("with resample_probability 1 every parameter is drawn anew from its domain")
  func resampleDraws() {
    let space = SearchSpace([Parameter(name: "x", domain: .float(min: 0, max: 1, log: false, step: nil))])
    let always = PopulationBasedTraining(population: 4, perturbationInterval: 1, resampleProbability: 1)
    var seen = Set<Double>()
    for seed in 0..<20 {
      var rng = SplitMix64(seed: UInt64(seed))
      let (explored, changes) = always.explore(Configuration(["x": .double(0.5)]), in: space, using: &rng)
      seen.insert(explored["x"]!.numericValue!)
      #expect(changes.allSatisfy { $0.hasSuffix("(resampled)") })
    }
    #expect(seen.count > 15, "draws spread over the domain, not factors of 0.5")
  }
}
