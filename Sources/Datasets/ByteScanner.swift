import Foundation

/// A cursor over the bytes of a text file that parses numbers in place, without building a
/// `String` per field, and knows its line and column for error messages.
///
/// Implementation goals: one pass over the bytes, no allocation per field, and results
/// bit-identical to `Float(String)`. Decimal numbers whose digits form an integer of at most
/// 2^53 and whose exponent is within ±22 take Clinger's fast path (exact `Double` operands, one
/// correctly rounded operation, then one rounding to `Float`); everything else, and the rare
/// `Double` that lands exactly halfway between two `Float`s (where rounding twice could differ
/// from rounding once), falls back to the standard library's parser.
struct ByteScanner {
  let bytes: UnsafeBufferPointer<UInt8>
  let path: String
  private(set) var position = 0
  /// The 1-based number of the line `position` is on.
  private(set) var line = 1
  private var lineStart = 0

  /// A scanner at the start of `bytes`, or just after a UTF-8 byte order mark (EF BB BF) there:
  /// some editors write one at the start of text files, and every loader skips it, so columns
  /// on the first line count from the character after it.
  init(_ bytes: UnsafeBufferPointer<UInt8>, path: String) {
    self.bytes = bytes
    self.path = path
    if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
      position = 3
      lineStart = 3
    }
  }

  var isAtEnd: Bool { position >= bytes.count }
  /// The 1-based byte column of `position`.
  var column: Int { position - lineStart + 1 }
  var isAtLineEnd: Bool {
    position >= bytes.count || bytes[position] == .lineFeed || bytes[position] == .carriageReturn
  }
  /// The byte at `position`, or nil at the end.
  var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  mutating func skipBlanks() {
    while position < bytes.count, bytes[position] == .space || bytes[position] == .tab {
      position += 1
    }
  }

  /// Skips the rest of the line and its LF or CRLF ending.
  mutating func skipLine() {
    while !isAtLineEnd { position += 1 }
    skipLineEnd()
  }

  /// Moves past a line ending (LF, CRLF or a lone CR) at `position`, if there is one.
  mutating func skipLineEnd() {
    guard position < bytes.count else { return }
    if bytes[position] == .carriageReturn { position += 1 }
    if position < bytes.count, bytes[position] == .lineFeed { position += 1 }
    line += 1
    lineStart = position
  }

  /// Skips blank lines (only spaces, tabs and line ends); returns false at the end of the file.
  mutating func skipBlankLines() -> Bool {
    while true {
      let start = position
      skipBlanks()
      if isAtEnd { return false }
      if !isAtLineEnd {
        position = start
        return true
      }
      skipLineEnd()
    }
  }

  /// Moves past the next `;` on this line, or to the line end if there is none.
  mutating func skipRecord() {
    while !isAtLineEnd {
      position += 1
      if bytes[position - 1] == .semicolon { return }
    }
  }

  /// Moves to `offset` on the current line.
  mutating func rewind(to offset: Int) { position = offset }

  /// The text of the current line from byte `offset` on, quoted as a message does.
  func text(from offset: Int) -> String {
    var end = offset
    while end < bytes.count, bytes[end] != .lineFeed, bytes[end] != .carriageReturn { end += 1 }
    return DatasetError.quote(
      String(
        decoding: UnsafeBufferPointer(rebasing: bytes[offset..<end]),
        as: UTF8.self))
  }

  /// The text from byte `offset` up to the next `separator` or line end.
  func field(from offset: Int, separators: Set<UInt8>) -> String {
    var end = offset
    while end < bytes.count, bytes[end] != .lineFeed, bytes[end] != .carriageReturn,
      !separators.contains(bytes[end])
    {
      end += 1
    }
    return DatasetError.quote(
      String(
        decoding: UnsafeBufferPointer(rebasing: bytes[offset..<end]),
        as: UTF8.self))
  }

  /// The 1-based column of byte `offset` on the current line.
  func column(of offset: Int) -> Int { offset - lineStart + 1 }

  /// The byte offset where the current line starts.
  var startOfLine: Int { lineStart }

  func malformed(at offset: Int, expected: String) -> DatasetError {
    .malformedLine(
      path: path, line: line, column: column(of: offset), expected: expected,
      found: text(from: offset))
  }

  /// Throws unless only blanks remain before the line end.
  mutating func expectLineEnd(_ expected: @autoclosure () -> String) throws(DatasetError) {
    skipBlanks()
    guard isAtLineEnd else { throw malformed(at: position, expected: expected()) }
    skipLineEnd()
  }

  /// Whether `byte` may follow a number or a word: a blank, a line end, `,` or `;`.
  @inline(__always)
  static func isDelimiter(_ byte: UInt8) -> Bool {
    byte == .space || byte == .tab || byte == .comma || byte == .semicolon
      || byte == .lineFeed || byte == .carriageReturn
  }

  /// Parses a decimal number (or `NaN`, `inf`, `Infinity`, any case) that ends at a delimiter.
  ///
  /// - Returns: The value, possibly non-finite; nil, with `position` unchanged, if the text there
  ///   is not a number.
  mutating func number() -> Float? {
    let start = position
    var p = position
    let n = bytes.count
    var negative = false
    if p < n, bytes[p] == .minus || bytes[p] == .plus {
      negative = bytes[p] == .minus
      p += 1
    }
    var mantissa: UInt64 = 0
    var exponent = 0
    var digits = 0
    var truncated = false
    while p < n, bytes[p] &- .zero < 10 {
      if mantissa < 100_000_000_000_000_000 {
        mantissa = mantissa &* 10 &+ UInt64(bytes[p] &- .zero)
      } else {
        truncated = true
        exponent += 1
      }
      digits += 1
      p += 1
    }
    if p < n, bytes[p] == .period {
      p += 1
      while p < n, bytes[p] &- .zero < 10 {
        if mantissa < 100_000_000_000_000_000 {
          mantissa = mantissa &* 10 &+ UInt64(bytes[p] &- .zero)
          exponent -= 1
        } else {
          truncated = true
        }
        digits += 1
        p += 1
      }
    }
    if digits == 0 { return special(from: start) }
    if p < n, bytes[p] | 0x20 == .lowercaseE {
      var q = p + 1
      var exponentNegative = false
      if q < n, bytes[q] == .minus || bytes[q] == .plus {
        exponentNegative = bytes[q] == .minus
        q += 1
      }
      var written = 0
      var e = 0
      while q < n, bytes[q] &- .zero < 10 {
        if e < 100_000 { e = e * 10 + Int(bytes[q] &- .zero) }
        written += 1
        q += 1
      }
      guard written > 0 else { return nil }
      exponent += exponentNegative ? -e : e
      p = q
    }
    guard p == n || Self.isDelimiter(bytes[p]) else { return nil }
    position = p
    if !truncated, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
      // Both operands are exact doubles, so one correctly rounded operation gives the double
      // nearest the decimal (Clinger's fast path).
      let magnitude =
        exponent < 0
        ? Double(mantissa) / Self.powersOfTen[-exponent]
        : Double(mantissa) * Self.powersOfTen[exponent]
      // A double exactly halfway between two floats: rounding it again could differ from rounding
      // the decimal once, so let the standard library decide. Subnormal and overflowing floats
      // take that path too.
      let halfway = magnitude.bitPattern & 0x1FFF_FFFF == 0x1000_0000
      let normal =
        magnitude >= Double(Float.leastNormalMagnitude)
        && magnitude <= Double(Float.greatestFiniteMagnitude)
      if !halfway, magnitude == 0 || normal {
        let result = Float(magnitude)
        return negative ? -result : result
      }
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<p]), as: UTF8.self)
    return Float(text)
  }

  /// `NaN`, `inf` or `infinity` (any case, optionally signed) starting at `start`.
  private mutating func special(from start: Int) -> Float? {
    var p = start
    var negative = false
    if p < bytes.count, bytes[p] == .minus || bytes[p] == .plus {
      negative = bytes[p] == .minus
      p += 1
    }
    // Compared in place: OPPORTUNITY files hold millions of `NaN` fields.
    func matches(_ word: StaticString) -> Bool {
      let count = word.utf8CodeUnitCount
      guard p + count <= bytes.count, p + count == bytes.count || Self.isDelimiter(bytes[p + count])
      else { return false }
      let text = word.utf8Start
      for i in 0..<count where bytes[p + i] | 0x20 != text[i] { return false }
      return true
    }
    let value: Float
    let count: Int
    if matches("nan") {
      (value, count) = (.nan, 3)
    } else if matches("inf") {
      (value, count) = (negative ? -.infinity : .infinity, 3)
    } else if matches("infinity") {
      (value, count) = (negative ? -.infinity : .infinity, 8)
    } else {
      return nil
    }
    position = p + count
    return value
  }

  /// Parses a number that must be finite; `expected` names it in the error.
  mutating func finiteNumber(_ expected: @autoclosure () -> String) throws(DatasetError) -> Float {
    let start = position
    guard let value = number() else { throw malformed(at: start, expected: expected()) }
    guard value.isFinite else {
      throw .nonFiniteValue(
        path: path, line: line, column: column(of: start),
        found: field(from: start, separators: [.space, .tab, .comma, .semicolon]))
    }
    return value
  }

  /// Parses an optionally signed decimal integer that ends at a delimiter; nil, with `position`
  /// unchanged, if there is none.
  mutating func integer() -> Int? {
    var p = position
    var negative = false
    if p < bytes.count, bytes[p] == .minus || bytes[p] == .plus {
      negative = bytes[p] == .minus
      p += 1
    }
    var value = 0
    var digits = 0
    while p < bytes.count, bytes[p] &- .zero < 10 {
      let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[p] &- .zero))
      if overflow1 || overflow2 { return nil }
      value = sum
      digits += 1
      p += 1
    }
    guard digits > 0, p == bytes.count || Self.isDelimiter(bytes[p]) else { return nil }
    position = p
    return negative ? -value : value
  }

  /// Parses an integer or throws a malformed-line error naming `expected`.
  mutating func requireInteger(_ expected: @autoclosure () -> String) throws(DatasetError) -> Int {
    let start = position
    guard let value = integer() else { throw malformed(at: start, expected: expected()) }
    return value
  }

  /// Consumes `byte` if it is next; returns whether it was.
  mutating func consume(_ byte: UInt8) -> Bool {
    guard position < bytes.count, bytes[position] == byte else { return false }
    position += 1
    return true
  }

  /// The bytes from `position` up to the next `,`, `;` or line end, consumed, without
  /// surrounding blanks.
  mutating func textField() -> UnsafeBufferPointer<UInt8> {
    skipBlanks()
    let start = position
    var end = position
    while position < bytes.count {
      let byte = bytes[position]
      if byte == .comma || byte == .semicolon || byte == .lineFeed || byte == .carriageReturn {
        break
      }
      position += 1
      if byte != .space && byte != .tab { end = position }
    }
    return UnsafeBufferPointer(rebasing: bytes[start..<end])
  }

  static let powersOfTen: [Double] = (0...22).map { exponent in
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
  }
}

extension UInt8 {
  static let tab = UInt8(ascii: "\t")
  static let lineFeed = UInt8(ascii: "\n")
  static let carriageReturn = UInt8(ascii: "\r")
  static let space = UInt8(ascii: " ")
  static let comma = UInt8(ascii: ",")
  static let semicolon = UInt8(ascii: ";")
  static let period = UInt8(ascii: ".")
  static let minus = UInt8(ascii: "-")
  static let plus = UInt8(ascii: "+")
  static let zero = UInt8(ascii: "0")
  static let lowercaseE = UInt8(ascii: "e")
  static let quote = UInt8(ascii: "\"")
}
