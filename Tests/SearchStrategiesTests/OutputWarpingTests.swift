import Foundation
import Testing

@testable import SearchStrategies

/// Known answers from scipy 1.17.1 (`scipy.stats.boxcox`, `boxcox_llf`, `yeojohnson`,
/// `yeojohnson_normmax`, `yeojohnson_llf`), float64.
struct OutputWarpingTests {
  /// Positive losses spanning four orders of magnitude (Goldstein-Price-like).
  static let positive: [Double] = [3.0, 10, 35, 200, 1500, 9e4, 4.2, 18, 640]
  /// Losses of both signs.
  static let mixed: [Double] = [-3.1, -2.5, -0.4, 0.0, 0.3, 1.2, -1.7, -3.3, -0.9, 2.0]

  @Test func transformsMatchTheReferenceAtFixedLambda() {
    // Given single values on both sides of zero / Then ψ matches scipy's
    #expect(abs(PowerTransform.yeoJohnson.transform(2.0, lambda: 0.5) - 1.4641016151377548) < 1e-12)
    #expect(abs(PowerTransform.yeoJohnson.transform(-1.5, lambda: 0.5) - -1.968564716806983) < 1e-12)
    #expect(abs(PowerTransform.yeoJohnson.transform(0.7, lambda: 0) - 0.5306282510621704) < 1e-12)
    #expect(abs(PowerTransform.yeoJohnson.transform(-0.7, lambda: 2) - -0.5306282510621704) < 1e-12)
    #expect(abs(PowerTransform.boxCox.transform(8, lambda: 0) - log(8)) < 1e-12)
    #expect(abs(PowerTransform.boxCox.transform(4, lambda: 0.5) - 2) < 1e-12)
  }

  @Test func boxCoxLikelihoodAndLambdaMatchTheReference() {
    // Given positive losses / When λ̂ is fitted
    let lambda = PowerTransform.boxCox.maximumLikelihoodLambda(Self.positive)
    // Then λ̂ and ℓ match scipy's boxcox (MLE) and boxcox_llf
    #expect(abs(lambda - -0.14969716113704087) < 1e-6)
    #expect(abs(PowerTransform.boxCox.logLikelihood(Self.positive, lambda: 0.3) - -59.60593488788338) < 1e-9)
    #expect(abs(PowerTransform.boxCox.logLikelihood(Self.positive, lambda: lambda) - -51.22733165733009) < 1e-9)
  }

  @Test func warpingPositiveLossesIsStandardizedBoxCox() {
    // Given positive losses / When they are warped
    let (warped, transform, lambda, _) = OutputWarping.warp(Self.positive)
    // Then Box-Cox with λ̂ was used, and z matches scipy's boxcox output standardized
    let expected = [
      -1.395719599333117, -0.7416864282133682, -0.17539350882885393, 0.45509431464233097, 1.0057756151693453,
      1.7225343297434492, -1.2009191963659795, -0.4627458120816156, 0.7930602852678084,
    ]
    #expect(transform == .boxCox)
    #expect(abs(lambda - -0.14969716113704087) < 1e-6)
    for (z, e) in zip(warped, expected) { #expect(abs(z - e) < 1e-6) }
  }

  @Test func warpingMixedSignLossesIsStandardizedYeoJohnsonOfScaledLosses() {
    // Given losses of both signs / When they are warped
    let (warped, transform, lambda, _) = OutputWarping.warp(Self.mixed)
    // Then Yeo-Johnson of r / s with λ̂ was used, matching yeojohnson_normmax and yeojohnson
    let expected = [
      -1.3121322692094182, -0.9717714633037162, 0.24165096611825043, 0.4783630820818276, 0.6575803678100823,
      1.2025624870097742, -0.514153529937072, -1.425109212493714, -0.051176106917154754, 1.6941856788411396,
    ]
    #expect(transform == .yeoJohnson)
    #expect(abs(lambda - 1.0490908397826935) < 1e-6)
    for (z, e) in zip(warped, expected) { #expect(abs(z - e) < 1e-6) }
    let n = Double(Self.mixed.count)
    let scale = (Self.mixed.map { $0 * $0 }.reduce(0, +) / n - pow(Self.mixed.reduce(0, +) / n, 2)).squareRoot()
    let u = Self.mixed.map { $0 / scale }
    #expect(abs(PowerTransform.yeoJohnson.logLikelihood(u, lambda: 0.5) - -0.5087286671251414) < 1e-9)
  }

  @Test func warpingKeepsTheOrderAndHandlesDegenerateInput() {
    // Given losses with ties and a constant history
    let losses: [Double] = [5, 1, 1, 900, 3, 7e5]
    let (warped, _, _, _) = OutputWarping.warp(losses)
    // Then the order is kept, ties stay tied
    for i in losses.indices {
      for j in losses.indices where losses[i] < losses[j] { #expect(warped[i] < warped[j]) }
    }
    #expect(warped[1] == warped[2])
    // And a constant or two-valued history is only standardized (λ = 1)
    #expect(OutputWarping.warp([2, 2, 2]).warped == [0, 0, 0])
    let two = OutputWarping.warp([1, 3, 1, 3])
    #expect(two.lambda == 1)
    #expect(two.warped == [-1, 1, -1, 1])
  }

  @Test func logDerivativeMatchesFiniteDifferences() {
    // Given both transforms at points on both sides of zero and several λ
    for (transform, points) in [(PowerTransform.boxCox, [0.3, 1.0, 4.5]), (.yeoJohnson, [-2.0, -0.4, 0.0, 0.7, 3.0])] {
      for lambda in [-1.5, 0.0, 0.6, 2.0, 3.2] {
        for u in points {
          // When log ψ'(u) is compared with a central difference
          let h = 1e-6
          let numeric =
            (transform.transform(u + h, lambda: lambda) - transform.transform(u - h, lambda: lambda)) / (2 * h)
          // Then they agree
          #expect(
            abs(transform.logDerivative(u, lambda: lambda) - log(numeric)) < 1e-6, "\(transform) λ=\(lambda) u=\(u)")
        }
      }
    }
  }

  @Test func logJacobiansAreThoseOfTheWholeMap() {
    // Given mixed-sign losses warped (Yeo-Johnson of r / s, standardized)
    let (warped, transform, lambda, logJacobians) = OutputWarping.warp(Self.mixed)
    let n = Double(Self.mixed.count)
    let mean = Self.mixed.reduce(0, +) / n
    let s = (Self.mixed.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
    let psi = Self.mixed.map { transform.transform($0 / s, lambda: lambda) }
    let psiMean = psi.reduce(0, +) / n
    let psiScale = (psi.map { ($0 - psiMean) * ($0 - psiMean) }.reduce(0, +) / n).squareRoot()
    // When zᵢ is differentiated in rᵢ with the fitted constants (λ, s, the mean and scale of ψ) held
    for i in Self.mixed.indices {
      let h = 1e-6
      let plus = (transform.transform((Self.mixed[i] + h) / s, lambda: lambda) - psiMean) / psiScale
      let minus = (transform.transform((Self.mixed[i] - h) / s, lambda: lambda) - psiMean) / psiScale
      // Then log |∂zᵢ/∂rᵢ| matches, and z is what the constants give
      #expect(abs(logJacobians[i] - log((plus - minus) / (2 * h))) < 1e-6)
      #expect(abs(warped[i] - (psi[i] - psiMean) / psiScale) < 1e-12)
    }
    // And plain standardization has log |∂z/∂r| = −log s
    for value in OutputWarping.standardize(Self.mixed).logJacobians { #expect(abs(value + log(s)) < 1e-12) }
  }
}
