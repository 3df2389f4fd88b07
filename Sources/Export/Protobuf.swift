/// Protocol-buffer wire encoding, the subset ONNX needs: varints (`int32`, `int64`, enums),
/// 32-bit floats and length-delimited fields (strings, bytes, nested messages).
struct ProtobufWriter {
  /// The message's bytes so far.
  private(set) var bytes: [UInt8] = []

  /// The wire types this writer emits.
  enum WireType: UInt64 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
  }

  private mutating func varint(_ value: UInt64) {
    var value = value
    while value >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
      value >>= 7
    }
    bytes.append(UInt8(value))
  }

  private mutating func tag(_ field: Int, _ type: WireType) {
    varint(UInt64(field) << 3 | type.rawValue)
  }

  /// An `int64`/`int32`/enum field; negative values take ten bytes (two's complement).
  mutating func int(_ field: Int, _ value: Int) {
    tag(field, .varint)
    varint(UInt64(bitPattern: Int64(value)))
  }

  /// A `float` field.
  mutating func float(_ field: Int, _ value: Float) {
    tag(field, .fixed32)
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
  }

  /// A `bytes` field.
  mutating func data(_ field: Int, _ value: [UInt8]) {
    tag(field, .lengthDelimited)
    varint(UInt64(value.count))
    bytes.append(contentsOf: value)
  }

  /// A `string` field (UTF-8).
  mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }

  /// A nested message field, written by `body` into its own writer.
  mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
    var nested = ProtobufWriter()
    body(&nested)
    data(field, nested.bytes)
  }
}

/// One field of a decoded message, as found on the wire.
enum ProtobufValue {
  case varint(UInt64)
  case fixed64(UInt64)
  case bytes(ArraySlice<UInt8>)
  case fixed32(UInt32)
}

/// Splits a message into its fields, in order; nested messages stay as bytes to be read again.
enum ProtobufReader {
  /// The fields of `bytes`.
  ///
  /// - Throws: ``ExportError/malformedONNX(reason:)`` for a truncated field, an over-long varint or
  ///   a wire type ONNX does not use (groups).
  static func fields(_ bytes: ArraySlice<UInt8>) throws(ExportError) -> [(
    field: Int, value: ProtobufValue
  )] {
    var index = bytes.startIndex
    func varint() throws(ExportError) -> UInt64 {
      var result: UInt64 = 0
      var shift: UInt64 = 0
      while true {
        guard index < bytes.endIndex, shift < 64 else {
          throw .malformedONNX(reason: "truncated or over-long varint at byte \(index)")
        }
        let byte = bytes[index]
        index += 1
        result |= UInt64(byte & 0x7F) << shift
        if byte < 0x80 { return result }
        shift += 7
      }
    }
    func take(_ count: Int) throws(ExportError) -> ArraySlice<UInt8> {
      guard count >= 0, count <= bytes.endIndex - index else {
        throw .malformedONNX(reason: "a field of \(count) bytes runs past the end at byte \(index)")
      }
      defer { index += count }
      return bytes[index..<(index + count)]
    }
    var result: [(field: Int, value: ProtobufValue)] = []
    while index < bytes.endIndex {
      let key = try varint()
      let field = Int(truncatingIfNeeded: key >> 3)
      guard field > 0 else { throw .malformedONNX(reason: "field number 0 at byte \(index)") }
      switch key & 7 {
      case 0: result.append((field, .varint(try varint())))
      case 1:
        let raw = try take(8)
        result.append((field, .fixed64(raw.reversed().reduce(0) { $0 << 8 | UInt64($1) })))
      case 2:
        let length = try varint()
        guard length <= UInt64(Int.max) else {
          throw .malformedONNX(reason: "a length of \(length) bytes")
        }
        result.append((field, .bytes(try take(Int(length)))))
      case 5:
        let raw = try take(4)
        result.append((field, .fixed32(raw.reversed().reduce(0) { $0 << 8 | UInt32($1) })))
      default:
        throw .malformedONNX(reason: "wire type \(key & 7) of field \(field) is not used by ONNX")
      }
    }
    return result
  }
}

extension ProtobufValue {
  /// The value of a varint field as a signed 64-bit integer.
  func integer(_ name: String) throws(ExportError) -> Int {
    guard case .varint(let raw) = self else {
      throw .malformedONNX(reason: "\(name) is not a varint")
    }
    return Int(Int64(bitPattern: raw))
  }

  /// The integers of a repeated varint field: one, or a packed run.
  func integers(_ name: String) throws(ExportError) -> [Int] {
    switch self {
    case .varint(let raw): return [Int(Int64(bitPattern: raw))]
    case .bytes(let packed):
      var values: [Int] = []
      var index = packed.startIndex
      while index < packed.endIndex {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
          guard index < packed.endIndex, shift < 64 else {
            throw .malformedONNX(reason: "bad packed \(name)")
          }
          let byte = packed[index]
          index += 1
          result |= UInt64(byte & 0x7F) << shift
          if byte < 0x80 { break }
          shift += 7
        }
        values.append(Int(Int64(bitPattern: result)))
      }
      return values
    default: throw .malformedONNX(reason: "\(name) is not an integer list")
    }
  }

  /// The bytes of a length-delimited field.
  func data(_ name: String) throws(ExportError) -> ArraySlice<UInt8> {
    guard case .bytes(let bytes) = self else {
      throw .malformedONNX(reason: "\(name) is not length-delimited")
    }
    return bytes
  }

  /// The text of a string field.
  func string(_ name: String) throws(ExportError) -> String {
    guard let text = String(validating: try data(name), as: UTF8.self) else {
      throw .malformedONNX(reason: "\(name) is not UTF-8")
    }
    return text
  }

  /// The value of a `float` field.
  func float(_ name: String) throws(ExportError) -> Float {
    guard case .fixed32(let bits) = self else {
      throw .malformedONNX(reason: "\(name) is not a 32-bit float")
    }
    return Float(bitPattern: bits)
  }
}
