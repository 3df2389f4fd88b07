/// One command-line option, declared once: its flag, the name of its value (none for a switch),
/// its help line with the default, and how its value sets the settings.
public struct Option<Settings> {
  /// The flag, e.g. `"--epochs"`.
  public let flag: String
  /// The value's name in the help, e.g. `"N"`; `nil` for a switch such as `--resume`.
  public let value: String?
  /// The help line, ending with the default where there is one.
  public let help: String
  let apply: (inout Settings, String) throws(UsageError) -> Void

  /// An option whose value `apply` parses into the settings; `apply` throws a ``UsageError``
  /// (its program is filled in by the parser) for a value it does not accept.
  public init(
    _ flag: String, value: String? = nil, help: String,
    apply: @escaping (inout Settings, String) throws(UsageError) -> Void
  ) {
    self.flag = flag
    self.value = value
    self.help = help
    self.apply = apply
  }

  /// The same option acting on the part of larger settings at `path`.
  public func embedded<Outer>(in path: WritableKeyPath<Outer, Settings>) -> Option<Outer> {
    let apply = self.apply
    return Option<Outer>(flag, value: value, help: help) { outer, text throws(UsageError) in
      try apply(&outer[keyPath: path], text)
    }
  }
}

/// Parses one executable's command line into its settings: only the options it declares, each
/// at most once, `--flag value` or `--flag=value`.
public struct OptionParser<Settings> {
  /// The executable's name, e.g. `"rab-kd"`.
  public let program: String
  /// A one-line description for `--help`.
  public let summary: String
  /// The options, in help order.
  public let options: [Option<Settings>]
  let defaults: Settings
  let finish: (inout Settings, _ given: Set<String>) throws(UsageError) -> Void

  /// A parser that starts from `defaults`, applies the options given, then calls `finish` with
  /// the flags that were given (to fill defaults that depend on other options, or to reject
  /// combinations).
  public init(
    program: String, summary: String, defaults: Settings, options: [Option<Settings>],
    finish: @escaping (inout Settings, _ given: Set<String>) throws(UsageError) -> Void = { _, _ in
    }
  ) {
    self.program = program
    self.summary = summary
    self.defaults = defaults
    self.options = options
    self.finish = finish
  }

  /// The text `--help` prints.
  public var usage: String {
    let left = options.map { $0.flag + ($0.value.map { " " + $0 } ?? "") }
    let width = (left.map(\.count).max() ?? 0) + 2
    var lines = ["usage: \(program) [options]", "", summary, "", "options:"]
    for (option, head) in zip(options, left) {
      lines.append("  " + head.padding(toLength: width, withPad: " ", startingAt: 0) + option.help)
    }
    lines.append(
      "  " + "-h, --help".padding(toLength: width, withPad: " ", startingAt: 0) + "show this help")
    return lines.joined(separator: "\n")
  }

  /// Parses `arguments` (without the program name).
  ///
  /// - Throws: ``UsageError`` for `--help` (no message) and for an option this executable does
  ///   not take, a missing value, a value of the wrong type or out of range, an option given
  ///   twice, and conflicting options.
  public func parse(_ arguments: [String]) throws(UsageError) -> Settings {
    var settings = defaults
    var given: Set<String> = []
    var rest = arguments[...]
    let table = Dictionary(options.map { ($0.flag, $0) }, uniquingKeysWith: { first, _ in first })
    while let argument = rest.popFirst() {
      if argument == "-h" || argument == "--help" { throw UsageError(nil, program: program) }
      let (flag, inline) =
        argument.hasPrefix("--") && argument.contains("=")
        ? (String(argument.prefix { $0 != "=" }), String(argument.drop { $0 != "=" }.dropFirst()))
        : (argument, nil as String?)
      guard let option = table[flag] else {
        throw UsageError("\(program) does not take the option '\(argument)'", program: program)
      }
      guard given.insert(flag).inserted else {
        throw UsageError("\(flag) is given twice", program: program)
      }
      let value: String
      if let name = option.value {
        guard let text = inline ?? rest.popFirst(), inline != nil || !text.hasPrefix("--") else {
          throw UsageError("\(flag) expects a value (\(name))", program: program)
        }
        value = text
      } else {
        guard inline == nil else { throw UsageError("\(flag) takes no value", program: program) }
        value = ""
      }
      do throws(UsageError) {
        try option.apply(&settings, value)
      } catch {
        throw UsageError(error.message, program: program)
      }
    }
    do throws(UsageError) {
      try finish(&settings, given)
    } catch {
      throw UsageError(error.message, program: program)
    }
    return settings
  }
}

/// Parsers for option values, each throwing a ``UsageError`` that names the flag and what it
/// expects.
public enum OptionValue {
  /// An integer in `range`.
  public static func integer(
    _ flag: String, _ text: String, in range: ClosedRange<Int>
  ) throws(UsageError) -> Int {
    guard let value = Int(text), range.contains(value) else {
      throw UsageError(
        "\(flag) expects an integer from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
    }
    return value
  }

  /// A finite number that `valid` accepts; `expected` describes the valid ones.
  public static func number(
    _ flag: String, _ text: String, _ expected: String, _ valid: (Float) -> Bool
  ) throws(UsageError) -> Float {
    guard let value = Float(text), value.isFinite, valid(value) else {
      throw UsageError("\(flag) expects \(expected), got '\(text)'")
    }
    return value
  }

  /// Comma-separated numbers, each as ``number(_:_:_:_:)`` checks it.
  public static func numbers(
    _ flag: String, _ text: String, _ expected: String, _ valid: (Float) -> Bool
  ) throws(UsageError) -> [Float] {
    var values: [Float] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      values.append(try number(flag, String(part), "comma-separated \(expected)", valid))
    }
    return values
  }

  /// Comma-separated, distinct integers in `range`; `a-b` stands for `a` to `b`.
  public static func integers(
    _ flag: String, _ text: String, in range: ClosedRange<Int>
  ) throws(UsageError) -> [Int] {
    var values: [Int] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      let ends = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
      let expected = "comma-separated integers from \(range.lowerBound) to \(range.upperBound)"
      guard let low = Int(ends[0]), let high = Int(ends.last!), low <= high,
        range.contains(low), range.contains(high)
      else {
        throw UsageError("\(flag) expects \(expected) (or ranges a-b), got '\(text)'")
      }
      values += Array(low...high)
    }
    guard Set(values).count == values.count else {
      throw UsageError("\(flag) lists a value twice: '\(text)'")
    }
    return values
  }

  /// Comma-separated, distinct, non-empty names.
  public static func names(_ flag: String, _ text: String) throws(UsageError) -> [String] {
    let values = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    guard !values.contains(where: \.isEmpty), Set(values).count == values.count else {
      throw UsageError("\(flag) expects distinct, comma-separated names, got '\(text)'")
    }
    return values
  }
}
