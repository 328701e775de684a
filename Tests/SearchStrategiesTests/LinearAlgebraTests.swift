import Foundation
import Testing

@testable import SearchStrategies

struct LinearAlgebraTests {
  /// The textbook example: A = L Lᵀ with L = [[2,0,0],[6,1,0],[-8,5,3]].
  static let a = Matrix(rows: 3, columns: 3, storage: [4, 12, -16, 12, 37, -43, -16, -43, 98])

  @Test func choleskyMatchesTheReferenceFactor() throws {
    // Given the reference SPD matrix / When it is factored
    let factor = try LinearAlgebra.cholesky(Self.a)
    // Then L is exact, its upper triangle is zero, no jitter was needed, log det = 2 log(2·1·3)
    #expect(factor.lower.storage == [2, 6, -8, 0, 1, 5, 0, 0, 3])
    #expect(factor.jitter == 0)
    #expect(abs(factor.logDeterminant - 2 * Foundation.log(6.0)) < 1e-12)
  }

  @Test func triangularSolvesMatchHandComputation() throws {
    // Given L and b = L·[1, 2, 3] = [2, 8, 11]; and Lᵀ·[1, 2, 3] = [2+12-24, 2+15, 9] = [-10, 17, 9]
    let factor = try LinearAlgebra.cholesky(Self.a)
    // When L x = b and Lᵀ x = c are solved
    let x = try factor.solveTriangular(Matrix(rows: 3, columns: 1, storage: [2, 8, 11]))
    let y = try factor.solveTriangular(Matrix(rows: 3, columns: 1, storage: [-10, 17, 9]), transposed: true)
    // Then both give [1, 2, 3]
    for (got, want) in zip(x.storage + y.storage, [1.0, 2, 3, 1, 2, 3]) { #expect(abs(got - want) < 1e-12) }
  }

  @Test func choleskySolveSolvesTheSystem() throws {
    // Given A and b = A·[1, -1, 2] = [4-12-32, 12-37-86, -16+43+196] = [-40, -111, 223]
    let factor = try LinearAlgebra.cholesky(Self.a)
    // When A x = b is solved through the factor
    let x = try factor.solve([-40, -111, 223])
    // Then x = [1, -1, 2]
    for (got, want) in zip(x, [1.0, -1, 2]) { #expect(abs(got - want) < 1e-10) }
  }

  @Test func inverseFromTheFactorMatchesHandComputationInTheLowerTriangle() throws {
    // Given A = L Lᵀ, whose inverse (Gauss-Jordan in fractions) is
    // [[1777/36, −122/9, 19/9], [−122/9, 34/9, −5/9], [19/9, −5/9, 1/9]]
    let factor = try LinearAlgebra.cholesky(Self.a)
    // When A⁻¹ is formed from the factor
    let inverse = try factor.inverseLowerTriangle()
    // Then its lower triangle holds A⁻¹ and its strict upper triangle is 0
    let want: [[Double]] = [[1777.0 / 36, 0, 0], [-122.0 / 9, 34.0 / 9, 0], [19.0 / 9, -5.0 / 9, 1.0 / 9]]
    for i in 0..<3 {
      for j in 0..<3 { #expect(abs(inverse[i, j] - want[i][j]) < 1e-10, "(\(i), \(j))") }
    }
  }

  @Test func singularMatrixIsFactoredWithEscalatingJitter() throws {
    // Given a rank-1 PSD matrix [[1, 1], [1, 1]]
    let singular = Matrix(rows: 2, columns: 2, storage: [1, 1, 1, 1])
    // When it is factored
    let factor = try LinearAlgebra.cholesky(singular)
    // Then it succeeds with a small positive jitter, and L Lᵀ reproduces A + jitter·I
    #expect(factor.jitter > 0 && factor.jitter <= 1e-3)
    let l = factor.lower
    #expect(abs(l[0, 0] * l[0, 0] - (1 + factor.jitter)) < 1e-12)
    #expect(abs(l[1, 0] * l[1, 0] + l[1, 1] * l[1, 1] - (1 + factor.jitter)) < 1e-12)
  }

  @Test func indefiniteMatrixThrowsATypedError() {
    // Given [[1, 2], [2, 1]] (eigenvalues 3 and -1): no small jitter makes it positive definite
    let indefinite = Matrix(rows: 2, columns: 2, storage: [1, 2, 2, 1])
    // When it is factored / Then dpotrf's failure surfaces as notPositiveDefinite
    #expect {
      try LinearAlgebra.cholesky(indefinite)
    } throws: { error in
      (error as? LinearAlgebraError)?.kind == .notPositiveDefinite
        && (error as? LinearAlgebraError)?.routine == "dpotrf"
    }
  }

  @Test func singularTriangularFactorThrows() {
    // Given a lower-triangular matrix with a zero on the diagonal
    let l = Matrix(rows: 2, columns: 2, storage: [1, 1, 0, 0])
    // When a triangular solve is attempted / Then dtrtrs reports it singular
    #expect {
      try LinearAlgebra.solveTriangular(l, Matrix(rows: 2, columns: 1, storage: [1, 1]))
    } throws: { error in
      (error as? LinearAlgebraError)?.kind == .singular
    }
  }
}
