import Foundation

/// Numbers as hpod shows them to people — the terminal, the dashboard, the reasons it writes:
/// `digits` significant digits, the shorter of plain and exponent notation, trailing zeros
/// dropped (`0.5`, `1e-06`, `0.9132`, `1.235e+06`), never the binary noise of a double
/// (`1.0000000000000004e-06`, `0.30000000000000004`). Machine output (JSON, CSV, MLflow)
/// keeps every digit; this is for reading.
public enum NumberText {
  public static func of(_ value: Double, digits: Int = 4) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    if value == 0 { return "0" }
    let precision = min(max(digits, 1), 17)
    return String(format: "%.\(precision)g", value)
  }
}
