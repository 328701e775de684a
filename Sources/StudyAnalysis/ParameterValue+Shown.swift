import NumberText
public import SearchStrategies
public import StudyModel

extension ParameterValue {
  /// The value as people read it: a float at four significant digits (`1e-06`, not
  /// `1.0000000000000004e-06`), anything else as written. A trial's command and the JSON the
  /// API answers keep every digit (`description`).
  public var shown: String {
    if case .double(let number) = self { return NumberText.of(number) }
    return description
  }
}
