/// A point of the search space: the values of the parameters that are active for it.
///
/// An inactive conditional parameter is absent, not `nil`. Encodes as a JSON object with
/// sorted keys so equal configurations always serialize to the same text.
public struct Configuration: Sendable, Hashable, Codable, Sequence {
  public private(set) var values: [String: ParameterValue]

  public init(_ values: [String: ParameterValue] = [:]) {
    self.values = values
  }

  public subscript(name: String) -> ParameterValue? {
    get { values[name] }
    set { values[name] = newValue }
  }

  public var names: [String] { values.keys.sorted() }

  public func makeIterator() -> some IteratorProtocol<(key: String, value: ParameterValue)> {
    values.sorted { $0.key < $1.key }.makeIterator()
  }

  public init(from decoder: any Decoder) throws {
    values = try decoder.singleValueContainer().decode([String: ParameterValue].self)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(values)
  }
}
