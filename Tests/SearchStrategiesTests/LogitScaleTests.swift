import Foundation
import Testing

@testable import SearchStrategies

struct LogitScaleTests {
  static func logit(_ x: Double) -> Double { log(x / (1 - x)) }

  @Test func unitCoordinatesMapOntoTheLogitScaleAndBack() throws {
    // Given Adam's β₂ as a fraction from 0.9 to 0.9999 on the logit scale
    let beta2 = Parameter.float("beta_2", 0.9, 0.9999, logit: true)
    // When unit coordinates are mapped onto it
    let values = try stride(from: 0.0, through: 1.0, by: 0.125).map {
      try #require(beta2.value(atUnit: $0).numericValue)
    }
    // Then the ends are the bounds, the middle is the logit midpoint 0.99668 (a linear scale
    // gives 0.94995), each eighth adds the same logit, and unit(of:) inverts the mapping
    #expect(abs(values.first! - 0.9) < 1e-12 && abs(values.last! - 0.9999) < 1e-12)
    #expect(abs(values[4] - 0.996678) < 1e-6, "\(values[4])")
    let steps = zip(values.dropFirst(), values).map { Self.logit($0) - Self.logit($1) }
    #expect(steps.allSatisfy { abs($0 - steps[0]) < 1e-9 }, "\(steps)")
    for (k, value) in values.enumerated() {
      let u = try #require(beta2.unit(of: .double(value)))
      #expect(abs(u - Double(k) * 0.125) < 1e-9)
    }
    // And values outside the bounds clamp to the ends of the unit interval
    #expect(beta2.unit(of: .double(0.5)) == 0 && beta2.unit(of: .double(1.0)) == 1)
  }

  @Test func randomDrawsCrowdTowardsOneAsOnTheLogitScale() throws {
    // Given momentum from 0.5 to 0.999, logit-scaled and linear
    let draws = 400
    func shareAbove(_ threshold: Double, logit: Bool) throws -> Double {
      let space = SearchSpace([.float("momentum", 0.5, 0.999, logit: logit)])
      let points = try RandomSearch(seed: 3).suggest(draws, in: SearchContext(space: space))
      return Double(points.count { $0["momentum"]!.numericValue! > threshold }) / Double(draws)
    }
    // When 400 configurations are drawn
    // Then about half are above 0.969 on the logit scale (a tenth of them above 0.99 too where
    // a linear draw puts 2%)
    let logitShare = try shareAbove(0.9693, logit: true)
    #expect(abs(logitShare - 0.5) < 0.08, "\(logitShare)")
    #expect(try shareAbove(0.99, logit: true) > 0.15)
    #expect(try shareAbove(0.99, logit: false) < 0.05)
  }

  @Test func logitIsIgnoredWhereItCannotApply() {
    // Given logit asked on a range reaching 1, and on a stepped fraction (the spec parser
    // refuses both; a library caller gets the linear scale, never a NaN)
    let open = Parameter.float("f", 0.2, 1.0, logit: true)
    let stepped = Parameter.float("g", 0.1, 0.9, step: 0.1, logit: true)
    // When the middle of the unit interval is mapped
    // Then both are linear
    #expect(abs(open.value(atUnit: 0.5).numericValue! - 0.6) < 1e-12)
    #expect(abs(stepped.value(atUnit: 0.5).numericValue! - 0.5) < 1e-12)
  }

  @Test func bayesFindsAFractionNearOneOnTheLogitScale() throws {
    // Given a loss least at momentum 0.998 measured in logit units (as a training loss
    // behaves near momentum 1), a second parameter, and 24 trials
    let space = SearchSpace([.float("momentum", 0.5, 0.9999, logit: true), .float("lr", 1e-4, 1, log: true)])
    let target = Self.logit(0.998)
    let context = try BayesianOptimizationTests.run(.bayes(seed: 7), space: space, trials: 24) {
      let m = Self.logit($0["momentum"]!.numericValue!)
      return pow(m - target, 2) + pow(log10($0["lr"]!.numericValue!) + 2, 2)
    }
    // Then the best momentum is within 0.25 logit units of 0.998 (0.9975–0.9984)
    let best = try #require(context.observations.min { $0.value! < $1.value! })
    let found = Self.logit(best.configuration["momentum"]!.numericValue!)
    #expect(abs(found - target) < 0.25, "\(best)")
  }
}
