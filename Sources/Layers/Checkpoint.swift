import Foundation
import Tensor

/// Why a checkpoint could not be written, read or loaded; every case names the file or tensor.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
  /// The file could not be opened, read or written.
  case unreadable(path: String, reason: String)
  /// The file is shorter than its header says.
  case truncated(path: String, expectedBytes: Int, foundBytes: Int)
  /// The header is not the safetensors JSON it should be.
  case malformedHeader(path: String, reason: String)
  /// A tensor stored with a type other than `F32`.
  case unsupportedDType(path: String, name: String, dtype: String)
  /// The header names a key twice (a tensor, or a field of one); JSON readers would disagree on
  /// which one wins, so the file is rejected.
  case duplicateKey(path: String, key: String)
  /// ``Checkpoint/loadModel(from:)`` on a file without an architecture: an older checkpoint, or
  /// one of a model with a custom layer. Load it into a model built by hand with
  /// ``Layer/load(from:)``.
  case missingArchitecture(path: String)
  /// The file's model card is not valid, or its architecture cannot be built.
  case invalidModelCard(path: String, reason: String)
  /// The model (or optimizer) needs a tensor the checkpoint lacks.
  case missingName(String)
  /// The checkpoint holds a tensor the model does not have.
  case unexpectedName(String)
  /// A tensor whose shape differs from the model's.
  case shapeMismatch(name: String, expected: [Int], found: [Int])

  /// The message, naming the file or tensor, e.g. `tensor '3.filter': expected shape [5, 16, 32], found [5, 16, 16]`.
  public var description: String {
    switch self {
    case .unreadable(let path, let reason): "\(path): cannot read or write checkpoint: \(reason)"
    case .truncated(let path, let expected, let found):
      "\(path): truncated checkpoint: expected \(expected) bytes, found \(found)"
    case .malformedHeader(let path, let reason): "\(path): malformed safetensors header: \(reason)"
    case .unsupportedDType(let path, let name, let dtype):
      "\(path): tensor '\(name)': dtype \(dtype), expected F32"
    case .duplicateKey(let path, let key):
      "\(path): malformed safetensors header: key '\(key)' appears twice"
    case .missingArchitecture(let path):
      "\(path): the checkpoint stores no architecture; build the model and use load(from:)"
    case .invalidModelCard(let path, let reason): "\(path): invalid model card: \(reason)"
    case .missingName(let name): "checkpoint has no tensor '\(name)'"
    case .unexpectedName(let name): "checkpoint tensor '\(name)' is not in the model"
    case .shapeMismatch(let name, let expected, let found):
      "tensor '\(name)': expected shape \(expected), found \(found)"
    }
  }
}

/// Named tensors in the safetensors format: an 8-byte little-endian header length, a JSON
/// header (`dtype` `"F32"`, `shape`, `data_offsets`, optional `__metadata__`), then raw
/// little-endian data. Python's `safetensors` reads these files.
///
/// Model parameters and state are stored under their dotted names (`"3.filter"`), optimizer
/// state under `"optimizer.<name>"`.
public struct Checkpoint: Equatable {
  /// The tensors, by name.
  public var tensors: [String: Tensor]
  /// Free-form string metadata (`__metadata__`).
  public var metadata: [String: String]

  /// Prefix of optimizer state names.
  public static let optimizerPrefix = "optimizer."

  /// A checkpoint of the given tensors.
  public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
    self.tensors = tensors.mapValues { $0.detached() }
    self.metadata = metadata
  }

  /// A checkpoint of `model`'s parameters and state and, if given, `optimizer`'s state.
  public init<Model: Layer>(
    model: Model, optimizer: (any Optimizer)? = nil, metadata: [String: String] = [:]
  ) {
    var tensors: [String: Tensor] = [:]
    for (name, value) in model.parameters + model.states { tensors[name] = value }
    for (name, value) in optimizer?.state ?? [:] { tensors[Self.optimizerPrefix + name] = value }
    self.init(tensors: tensors, metadata: metadata)
  }

  /// The optimizer state held by this checkpoint, with the prefix removed.
  public var optimizerState: [String: Tensor] {
    var result: [String: Tensor] = [:]
    for (name, value) in tensors where name.hasPrefix(Self.optimizerPrefix) {
      result[String(name.dropFirst(Self.optimizerPrefix.count))] = value
    }
    return result
  }

  /// Whether both hold the same metadata and the same tensors, bit for bit.
  public static func == (lhs: Checkpoint, rhs: Checkpoint) -> Bool {
    lhs.metadata == rhs.metadata && lhs.tensors.count == rhs.tensors.count
      && lhs.tensors.allSatisfy { name, value in
        rhs.tensors[name].map { $0.shape == value.shape && $0.scalars == value.scalars } ?? false
      }
  }

  // MARK: Encoding

  /// The file's bytes; tensors are laid out in name order, so equal checkpoints encode equally.
  public func encoded() -> Data {
    func quoted(_ s: String) -> String {
      var out = "\""
      for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
      }
      return out + "\""
    }
    let names = tensors.keys.sorted()
    var entries: [String] = []
    if !metadata.isEmpty {
      let fields = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0]!))" }
      entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
    }
    var offset = 0
    for name in names {
      let tensor = tensors[name]!
      let end = offset + 4 * tensor.scalarCount
      let shape = tensor.shape.map(String.init).joined(separator: ",")
      entries.append(
        "\(quoted(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
      )
      offset = end
    }
    var header = Array("{\(entries.joined(separator: ","))}".utf8)
    // Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
    while (8 + header.count) % 8 != 0 { header.append(UInt8(ascii: " ")) }
    var data = Data(capacity: 8 + header.count + offset)
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: header)
    for name in names {
      tensors[name]!.withUnsafeBufferPointer { values in
        var bytes = [UInt8](repeating: 0, count: values.count * 4)
        for (i, value) in values.enumerated() {
          let bits = value.bitPattern.littleEndian
          withUnsafeBytes(of: bits) { raw in for b in 0..<4 { bytes[4 * i + b] = raw[b] } }
        }
        data.append(contentsOf: bytes)
      }
    }
    return data
  }

  /// Writes the checkpoint with ``writeReplacing(_:to:)``: to `<file>.partial` beside `url`, then
  /// renamed over `url`, so a crash never leaves a half-written checkpoint or a stray temporary
  /// file, and the previous file survives.
  public func write(to url: URL) throws(CheckpointError) {
    do {
      try writeReplacing(encoded(), to: url)
    } catch {
      throw .unreadable(path: url.path, reason: error.reason)
    }
  }

  // MARK: Decoding

  /// Reads a checkpoint file.
  ///
  /// - Throws: ``CheckpointError`` for a missing, truncated or corrupted file; never crashes.
  public static func read(from url: URL) throws(CheckpointError) -> Checkpoint {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw .unreadable(path: url.path, reason: "\(error.localizedDescription)")
    }
    return try Checkpoint(decoding: data, path: url.path)
  }

  /// Decodes checkpoint bytes; `path` names the source in errors.
  public init(decoding data: Data, path: String) throws(CheckpointError) {
    let bytes = [UInt8](data)
    guard bytes.count >= 8 else {
      throw .truncated(path: path, expectedBytes: 8, foundBytes: bytes.count)
    }
    var headerLength: UInt64 = 0
    for b in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(bytes[b]) }
    guard headerLength <= UInt64(bytes.count - 8) else {
      throw .truncated(
        path: path,
        expectedBytes: headerLength > UInt64(Int.max / 2) ? Int.max : 8 + Int(headerLength),
        foundBytes: bytes.count)
    }
    let dataStart = 8 + Int(headerLength)
    let parsed: HeaderJSON
    do throws(HeaderJSON.ParseError) {
      parsed = try HeaderJSON.parse(Array(bytes[8..<dataStart]))
    } catch {
      switch error {
      case .syntax: throw .malformedHeader(path: path, reason: "not JSON")
      case .duplicateKey(let key): throw .duplicateKey(path: path, key: key)
      }
    }
    guard case .object(let header) = parsed else {
      throw .malformedHeader(path: path, reason: "not a JSON object")
    }
    var metadata: [String: String] = [:]
    var tensors: [String: Tensor] = [:]
    let available = bytes.count - dataStart
    for (name, value) in header {
      if name == "__metadata__" {
        guard case .object(let fields) = value else {
          throw .malformedHeader(path: path, reason: "__metadata__ must map strings to strings")
        }
        for (key, field) in fields {
          guard case .string(let text) = field else {
            throw .malformedHeader(path: path, reason: "__metadata__ must map strings to strings")
          }
          metadata[key] = text
        }
        continue
      }
      guard case .object(let members) = value else {
        throw .malformedHeader(
          path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
      }
      let entry = Dictionary(members, uniquingKeysWith: { first, _ in first })
      guard case .string(let dtype) = entry["dtype"], case .array(let shapeValues) = entry["shape"],
        case .array(let offsetValues) = entry["data_offsets"]
      else {
        throw .malformedHeader(
          path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
      }
      guard dtype == "F32" else { throw .unsupportedDType(path: path, name: name, dtype: dtype) }
      let shape = shapeValues.compactMap(\.nonNegativeInteger)
      let offsets = offsetValues.compactMap(\.nonNegativeInteger)
      guard offsets.count == offsetValues.count else {
        throw .malformedHeader(
          path: path, reason: "entry '\(name)': data_offsets must be non-negative integers")
      }
      guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }),
        offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1]
      else {
        throw .malformedHeader(
          path: path, reason: "entry '\(name)' has a bad shape or data_offsets")
      }
      // The byte count, in the order Tensor multiplies the shape; nil if it overflows an Int.
      let byteCount = (shape + [4]).reduce(Int?.some(1)) { product, extent in
        product.flatMap { p in
          let (result, overflow) = p.multipliedReportingOverflow(by: extent)
          return overflow ? nil : result
        }
      }
      guard let byteCount, offsets[1] - offsets[0] == byteCount else {
        throw .malformedHeader(
          path: path,
          reason:
            "entry '\(name)': shape \(shape) needs \(byteCount.map { "\($0)" } ?? "too many") bytes, "
            + "offsets give \(offsets[1] - offsets[0])")
      }
      let count = byteCount / 4
      guard offsets[1] <= available else {
        let (end, overflow) = dataStart.addingReportingOverflow(offsets[1])
        throw .truncated(
          path: path, expectedBytes: overflow ? Int.max : end, foundBytes: bytes.count)
      }
      var scalars = [Float](repeating: 0, count: count)
      let base = dataStart + offsets[0]
      for i in 0..<count {
        let p = base + 4 * i
        let bits =
          UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16
          | UInt32(bytes[p + 3]) << 24
        scalars[i] = Float(bitPattern: bits)
      }
      do {
        tensors[name] = try Tensor(shape: shape, scalars: scalars)
      } catch {
        throw .malformedHeader(path: path, reason: "entry '\(name)': \(error)")
      }
    }
    self.init(tensors: tensors, metadata: metadata)
  }
}

extension Layer {
  /// Replaces every parameter and state tensor with the checkpoint's tensor of the same name.
  ///
  /// Nothing changes unless every name is present with the right shape and the checkpoint holds no
  /// other model tensor (optimizer state is ignored here).
  ///
  /// - Throws: ``CheckpointError`` naming the first missing, unexpected or misshapen tensor.
  public mutating func load(from checkpoint: Checkpoint) throws(CheckpointError) {
    let own = parameters + states
    for (name, value) in own {
      guard let stored = checkpoint.tensors[name] else { throw .missingName(name) }
      guard stored.shape == value.shape else {
        throw .shapeMismatch(name: name, expected: value.shape, found: stored.shape)
      }
    }
    let known = Set(own.map(\.name))
    if let extra = checkpoint.tensors.keys.sorted().first(where: {
      !known.contains($0) && !$0.hasPrefix(Checkpoint.optimizerPrefix)
    }) {
      throw .unexpectedName(extra)
    }
    forEachParameter { name, value in value = checkpoint.tensors[name]! }
    forEachState { name, value in value = checkpoint.tensors[name]! }
  }
}

/// The cause of a failed file operation in the system's words (`No space left on device`), or
/// Foundation's description when there is no underlying system error.
func fileErrorReason(_ error: any Error) -> String {
  let nsError = error as NSError
  if let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? any Error).map({ $0 as NSError }),
    underlying.domain == NSPOSIXErrorDomain
  {
    return String(cString: strerror(Int32(underlying.code)))
  }
  return nsError.localizedDescription
}
