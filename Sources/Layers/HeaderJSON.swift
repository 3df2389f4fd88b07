/// A JSON value as the safetensors header reader needs it: objects keep their keys in file order
/// (and are rejected when a key repeats), numbers keep their text (so that `1.5` or `1e3` is not
/// silently taken for an integer).
enum HeaderJSON {
  case object([(key: String, value: HeaderJSON)])
  case array([HeaderJSON])
  case string(String)
  case number(String)
  case bool(Bool)
  case null

  /// Why bytes are not the JSON the reader accepts.
  enum ParseError: Error {
    /// Not JSON (syntax, invalid UTF-8, nesting deeper than ``maximumDepth``).
    case syntax(offset: Int)
    /// An object holds `key` twice.
    case duplicateKey(String)
  }

  /// Deeper nesting is rejected rather than recursed into (a safetensors header needs 3 levels).
  static let maximumDepth = 64

  /// Parses one JSON value filling `bytes` (surrounding whitespace allowed).
  static func parse(_ bytes: [UInt8]) throws(ParseError) -> HeaderJSON {
    var parser = Parser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.value(depth: 0)
    parser.skipWhitespace()
    guard parser.index == bytes.count else { throw .syntax(offset: parser.index) }
    return value
  }

  /// The value's text if it is a non-negative integer written without fraction or exponent
  /// (`0`, `17`), as an `Int`; `nil` otherwise (also when it does not fit an `Int`).
  var nonNegativeInteger: Int? {
    guard case .number(let text) = self, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
    else { return nil }
    return Int(text)
  }

  private struct Parser {
    let bytes: [UInt8]
    var index = 0

    mutating func skipWhitespace() {
      while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func expect(_ literal: String) throws(ParseError) {
      for byte in literal.utf8 {
        guard peek() == byte else { throw .syntax(offset: index) }
        index += 1
      }
    }

    mutating func value(depth: Int) throws(ParseError) -> HeaderJSON {
      guard depth < HeaderJSON.maximumDepth, let byte = peek() else {
        throw .syntax(offset: index)
      }
      switch byte {
      case UInt8(ascii: "{"):
        index += 1
        var members: [(key: String, value: HeaderJSON)] = []
        var seen: Set<String> = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
          index += 1
          return .object(members)
        }
        while true {
          skipWhitespace()
          guard peek() == UInt8(ascii: "\"") else { throw .syntax(offset: index) }
          let key = try string()
          guard seen.insert(key).inserted else { throw .duplicateKey(key) }
          skipWhitespace()
          try expect(":")
          skipWhitespace()
          members.append((key, try value(depth: depth + 1)))
          skipWhitespace()
          if peek() == UInt8(ascii: ",") {
            index += 1
            continue
          }
          try expect("}")
          return .object(members)
        }
      case UInt8(ascii: "["):
        index += 1
        var elements: [HeaderJSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
          index += 1
          return .array(elements)
        }
        while true {
          skipWhitespace()
          elements.append(try value(depth: depth + 1))
          skipWhitespace()
          if peek() == UInt8(ascii: ",") {
            index += 1
            continue
          }
          try expect("]")
          return .array(elements)
        }
      case UInt8(ascii: "\""): return .string(try string())
      case UInt8(ascii: "t"):
        try expect("true")
        return .bool(true)
      case UInt8(ascii: "f"):
        try expect("false")
        return .bool(false)
      case UInt8(ascii: "n"):
        try expect("null")
        return .null
      default: return .number(try number())
      }
    }

    /// A number per the JSON grammar, `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, as text.
    mutating func number() throws(ParseError) -> String {
      let start = index
      func digits(_ parser: inout Parser) -> Int {
        let begin = parser.index
        while let byte = parser.peek(), byte >= 0x30 && byte <= 0x39 { parser.index += 1 }
        return parser.index - begin
      }
      if peek() == UInt8(ascii: "-") { index += 1 }
      let integerStart = index
      let integerDigits = digits(&self)
      guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != 0x30 else {
        throw .syntax(offset: start)
      }
      if peek() == UInt8(ascii: ".") {
        index += 1
        guard digits(&self) > 0 else { throw .syntax(offset: start) }
      }
      if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
        index += 1
        if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
        guard digits(&self) > 0 else { throw .syntax(offset: start) }
      }
      return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// A string starting at the opening quote, escapes decoded; invalid UTF-8 is rejected.
    mutating func string() throws(ParseError) -> String {
      let start = index
      index += 1
      var scalars: [UInt8] = []
      while true {
        guard let byte = peek() else { throw .syntax(offset: start) }
        index += 1
        switch byte {
        case UInt8(ascii: "\""):
          guard let text = String(validating: scalars, as: UTF8.self) else {
            throw .syntax(offset: start)
          }
          return text
        case UInt8(ascii: "\\"):
          guard let escape = peek() else { throw .syntax(offset: start) }
          index += 1
          switch escape {
          case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
          case UInt8(ascii: "b"): scalars.append(0x08)
          case UInt8(ascii: "f"): scalars.append(0x0C)
          case UInt8(ascii: "n"): scalars.append(0x0A)
          case UInt8(ascii: "r"): scalars.append(0x0D)
          case UInt8(ascii: "t"): scalars.append(0x09)
          case UInt8(ascii: "u"):
            var code = try hex4()
            if (0xD800..<0xDC00).contains(code) {
              // A high surrogate must be followed by an escaped low one.
              try expect("\\u")
              let low = try hex4()
              guard (0xDC00..<0xE000).contains(low) else { throw .syntax(offset: start) }
              code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else { throw .syntax(offset: start) }
            scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
          default: throw .syntax(offset: start)
          }
        case 0..<0x20: throw .syntax(offset: start)
        default: scalars.append(byte)
        }
      }
    }

    mutating func hex4() throws(ParseError) -> UInt32 {
      var code: UInt32 = 0
      for _ in 0..<4 {
        guard let byte = peek() else { throw .syntax(offset: index) }
        let digit: UInt32
        switch byte {
        case 0x30...0x39: digit = UInt32(byte - 0x30)
        case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
        case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
        default: throw .syntax(offset: index)
        }
        code = code << 4 | digit
        index += 1
      }
      return code
    }
  }
}
