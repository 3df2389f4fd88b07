import Metrics

/// One value in the free-form `settings` object of `results.json`: a string, an integer, a
/// number, a Boolean, or a list of these.
///
/// Literals work directly: `["epochs": 30, "seeds": [0, 1, 2], "temperature": 4.0]`.
public enum SettingValue: Sendable, Equatable, Codable, CustomStringConvertible,
  ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral
{
  /// Text, e.g. a data set path or an optimizer name.
  case string(String)
  /// A whole number, e.g. an epoch count.
  case integer(Int)
  /// A real number, e.g. a learning rate.
  case number(Double)
  /// A flag.
  case bool(Bool)
  /// A list, e.g. the seeds.
  case list([SettingValue])

  /// A string setting.
  public init(stringLiteral value: String) { self = .string(value) }
  /// An integer setting.
  public init(integerLiteral value: Int) { self = .integer(value) }
  /// A real-number setting.
  public init(floatLiteral value: Double) { self = .number(value) }
  /// A Boolean setting.
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  /// A list setting.
  public init(arrayLiteral elements: SettingValue...) { self = .list(elements) }

  /// Decodes whichever JSON value is present; whole numbers decode as ``integer(_:)``.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Int.self) {
      self = .integer(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else {
      self = .list(try container.decode([SettingValue].self))
    }
  }

  /// Encodes the value as the matching JSON value.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .string(let value): try container.encode(value)
    case .integer(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .bool(let value): try container.encode(value)
    case .list(let values): try container.encode(values)
    }
  }

  /// Equal values of the same kind; an integer and a number are equal when their values are,
  /// because JSON does not keep `4.0` apart from `4`.
  public static func == (lhs: SettingValue, rhs: SettingValue) -> Bool {
    switch (lhs, rhs) {
    case (.string(let a), .string(let b)): a == b
    case (.integer(let a), .integer(let b)): a == b
    case (.number(let a), .number(let b)): a == b
    case (.integer(let a), .number(let b)), (.number(let b), .integer(let a)): Double(a) == b
    case (.bool(let a), .bool(let b)): a == b
    case (.list(let a), .list(let b)): a == b
    default: false
    }
  }

  /// The value as the Markdown report shows it, e.g. `[0, 1, 2]`.
  public var description: String {
    switch self {
    case .string(let value): value
    case .integer(let value): "\(value)"
    case .number(let value): "\(value)"
    case .bool(let value): "\(value)"
    case .list(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
    }
  }
}
