// Every LAPACK call of the package lives in this file.
//
// Matrices are dense, column-major (`storage[i + j * rows]`), as LAPACK wants them, so no call
// pays for a layout transpose. Each wrapper checks LAPACK's `info` and throws a
// `LinearAlgebraError` naming the routine when it is not zero. Systems are solved with the
// Cholesky factor and triangular solves; the one explicit inverse, `dpotri`'s, serves the
// likelihood gradient, which needs the entries of K⁻¹ (see `GaussianProcess`).

internal import CLapack
import Foundation

/// A LAPACK routine reported a failure (`info != 0`).
public struct LinearAlgebraError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// The matrix is not (numerically) positive definite, even with the largest jitter tried.
    case notPositiveDefinite = "not_positive_definite"
    /// A triangular factor has an exact zero on its diagonal.
    case singular
    /// LAPACK rejected an argument (`info < 0`): a bug in the caller.
    case illegalArgument = "illegal_argument"
  }

  public var kind: Kind
  /// The LAPACK routine, e.g. `dpotrf`.
  public var routine: String
  /// LAPACK's `info`.
  public var info: Int

  public var description: String {
    switch kind {
    case .notPositiveDefinite: "\(routine): matrix is not positive definite (leading minor \(info))"
    case .singular: "\(routine): triangular factor is singular (zero at diagonal \(info))"
    case .illegalArgument: "\(routine): argument \(-info) is illegal"
    }
  }
}

/// A dense column-major matrix of doubles.
struct Matrix: Sendable, Equatable {
  var rows: Int
  var columns: Int
  var storage: [Double]

  init(rows: Int, columns: Int, storage: [Double]) {
    precondition(storage.count == rows * columns, "storage has \(storage.count) entries, not \(rows)x\(columns)")
    self.rows = rows
    self.columns = columns
    self.storage = storage
  }

  init(rows: Int, columns: Int, repeating value: Double = 0) {
    self.init(rows: rows, columns: columns, storage: Array(repeating: value, count: rows * columns))
  }

  static func identity(_ n: Int) -> Matrix {
    var matrix = Matrix(rows: n, columns: n)
    for i in 0..<n { matrix[i, i] = 1 }
    return matrix
  }

  subscript(row: Int, column: Int) -> Double {
    get { storage[row + column * rows] }
    set { storage[row + column * rows] = newValue }
  }
}

/// The lower Cholesky factor `L` of a symmetric positive definite `A = L Lᵀ`, with the jitter
/// that had to be added to `A`'s diagonal to factor it.
struct CholeskyFactor: Sendable {
  /// Lower triangle holds `L`; the strict upper triangle is zero.
  var lower: Matrix
  /// What was added to the diagonal (0 when `A` factored as given).
  var jitter: Double

  var size: Int { lower.rows }

  /// `log det A = 2 Σ log Lᵢᵢ`.
  var logDeterminant: Double {
    var sum = 0.0
    for i in 0..<size { sum += log(lower[i, i]) }
    return 2 * sum
  }

  /// Solves `L X = B` (or `Lᵀ X = B` when `transposed`).
  func solveTriangular(_ b: Matrix, transposed: Bool = false) throws -> Matrix {
    try LinearAlgebra.solveTriangular(lower, b, transposed: transposed)
  }

  /// Solves `A X = B` through `L` and `Lᵀ`.
  func solve(_ b: Matrix) throws -> Matrix {
    try LinearAlgebra.choleskySolve(lower, b)
  }

  /// Solves `A x = b` for one vector.
  func solve(_ b: [Double]) throws -> [Double] {
    try solve(Matrix(rows: b.count, columns: 1, storage: b)).storage
  }

  /// `A⁻¹` in the lower triangle, the strict upper triangle 0 (`dpotri`: L⁻¹, then L⁻ᵀ L⁻¹,
  /// about ⅔n³ flops where solving `A X = I` takes 2n³).
  func inverseLowerTriangle() throws -> Matrix {
    try LinearAlgebra.choleskyInverse(lower)
  }
}

/// Thin, throwing wrappers over the LAPACKE routines the Gaussian process needs.
enum LinearAlgebra {
  /// LAPACKE scans every input matrix for NaN before each call (O(n²), as much as a triangular
  /// solve itself). Our matrices are built from finite data, so the scan is switched off once.
  private static let nanCheckOff: Void = LAPACKE_set_nancheck(0)

  /// Diagonal jitters tried in turn, relative to the mean diagonal, when `A` is not positive
  /// definite as given.
  static let jitterLadder: [Double] = [0, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3]

  /// Cholesky factorization `A + jitter·I = L Lᵀ` (`dpotrf`). Starts with `initialJitter`
  /// (absolute) and escalates along `jitterLadder` while LAPACK reports the matrix not positive
  /// definite; throws `notPositiveDefinite` when even the largest jitter fails.
  static func cholesky(_ a: Matrix, initialJitter: Double = 0) throws -> CholeskyFactor {
    precondition(a.rows == a.columns, "Cholesky needs a square matrix")
    _ = nanCheckOff
    let n = a.rows
    guard n > 0 else { return CholeskyFactor(lower: a, jitter: 0) }
    var meanDiagonal = 0.0
    for i in 0..<n { meanDiagonal += a[i, i] }
    meanDiagonal = Swift.max(meanDiagonal / Double(n), .leastNormalMagnitude)
    var lastInfo = 0
    let jitters = [initialJitter] + jitterLadder.map { $0 * meanDiagonal }.filter { $0 > initialJitter }
    for jitter in jitters {
      var factor = a
      if jitter > 0 { for i in 0..<n { factor[i, i] += jitter } }
      let info = factor.storage.withUnsafeMutableBufferPointer { buffer in
        LAPACKE_dpotrf(LAPACK_COL_MAJOR, lower, Int32(n), buffer.baseAddress, Int32(n))
      }
      if info == 0 {
        for j in 0..<n { for i in 0..<j { factor[i, j] = 0 } }
        return CholeskyFactor(lower: factor, jitter: jitter)
      }
      guard info > 0 else { throw LinearAlgebraError(kind: .illegalArgument, routine: "dpotrf", info: Int(info)) }
      lastInfo = Int(info)
    }
    throw LinearAlgebraError(kind: .notPositiveDefinite, routine: "dpotrf", info: lastInfo)
  }

  /// Solves `L X = B` (`Lᵀ X = B` when `transposed`) for a lower-triangular `L` (`dtrtrs`).
  static func solveTriangular(_ l: Matrix, _ b: Matrix, transposed: Bool = false) throws -> Matrix {
    try solve(l, b, routine: "dtrtrs") { n, columns, lBuffer, xBuffer in
      LAPACKE_dtrtrs(
        LAPACK_COL_MAJOR, lower, transposed ? transpose : noTranspose, nonUnit, n, columns, lBuffer, n, xBuffer, n)
    }
  }

  /// Solves `L Lᵀ X = B` given the lower Cholesky factor `L` (`dpotrs`).
  static func choleskySolve(_ l: Matrix, _ b: Matrix) throws -> Matrix {
    try solve(l, b, routine: "dpotrs") { n, columns, lBuffer, xBuffer in
      LAPACKE_dpotrs(LAPACK_COL_MAJOR, lower, n, columns, lBuffer, n, xBuffer, n)
    }
  }

  /// The lower triangle of `(L Lᵀ)⁻¹` given the lower Cholesky factor `L` (`dpotri`), in
  /// place of `L`'s (the strict upper triangle is `L`'s, i.e. 0).
  static func choleskyInverse(_ l: Matrix) throws -> Matrix {
    precondition(l.rows == l.columns, "the Cholesky factor must be square")
    _ = nanCheckOff
    guard l.rows > 0 else { return l }
    var inverse = l
    let info = inverse.storage.withUnsafeMutableBufferPointer { buffer in
      LAPACKE_dpotri(LAPACK_COL_MAJOR, lower, Int32(l.rows), buffer.baseAddress, Int32(l.rows))
    }
    try check(info, "dpotri")
    return inverse
  }

  /// Runs a solve routine `call(n, columns, L, X)` that overwrites `X` (initially `B`) in place.
  private static func solve(
    _ l: Matrix, _ b: Matrix, routine: String,
    _ call: (Int32, Int32, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?) -> Int32
  ) throws -> Matrix {
    precondition(l.rows == l.columns && l.rows == b.rows, "shapes do not match")
    _ = nanCheckOff
    guard b.rows > 0, b.columns > 0 else { return b }
    var x = b
    let info = l.storage.withUnsafeBufferPointer { lBuffer in
      x.storage.withUnsafeMutableBufferPointer { xBuffer in
        call(Int32(l.rows), Int32(b.columns), lBuffer.baseAddress, xBuffer.baseAddress)
      }
    }
    try check(info, routine)
    return x
  }

  private static func check(_ info: Int32, _ routine: String) throws {
    if info < 0 { throw LinearAlgebraError(kind: .illegalArgument, routine: routine, info: Int(info)) }
    if info > 0 { throw LinearAlgebraError(kind: .singular, routine: routine, info: Int(info)) }
  }

  private static let lower = CChar(UInt8(ascii: "L"))
  private static let transpose = CChar(UInt8(ascii: "T"))
  private static let noTranspose = CChar(UInt8(ascii: "N"))
  private static let nonUnit = CChar(UInt8(ascii: "N"))
}
