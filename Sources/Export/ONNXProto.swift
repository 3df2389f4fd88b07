/// The ONNX protocol-buffer messages this package writes and reads: a model of one graph of
/// standard operators, its weights stored as raw little-endian `float32` (or `int64` for shapes
/// and axes).
///
/// The field numbers are those of `onnx.proto`. ``ONNXModel/serialized()`` writes the bytes of an
/// `.onnx` file; ``ONNXModel/init(serialized:)`` reads the subset back (fields it does not know are
/// skipped), which is how the tests check what was written.
public struct ONNXModel: Equatable, Sendable {
  /// The ONNX IR version: 8.
  public var irVersion: Int
  /// The operator sets used, as (domain, version); `""` is the default domain.
  public var opsetImports: [(domain: String, version: Int)]
  /// The tool that wrote the model.
  public var producerName: String
  /// The producer's version.
  public var producerVersion: String
  /// A description of the model.
  public var docString: String
  /// The model's graph.
  public var graph: ONNXGraph
  /// Free-form string metadata (`metadata_props`), in order.
  public var metadata: [(key: String, value: String)]

  /// A model from its parts.
  public init(
    irVersion: Int = 8, opsetImports: [(domain: String, version: Int)] = [("", 17)],
    producerName: String = "HARDistill", producerVersion: String = "1",
    docString: String = "", graph: ONNXGraph, metadata: [(key: String, value: String)] = []
  ) {
    self.irVersion = irVersion
    self.opsetImports = opsetImports
    self.producerName = producerName
    self.producerVersion = producerVersion
    self.docString = docString
    self.graph = graph
    self.metadata = metadata
  }

  /// Whether both have the same fields, weights compared bit for bit.
  public static func == (lhs: ONNXModel, rhs: ONNXModel) -> Bool {
    lhs.irVersion == rhs.irVersion
      && lhs.opsetImports.map(\.domain) == rhs.opsetImports.map(\.domain)
      && lhs.opsetImports.map(\.version) == rhs.opsetImports.map(\.version)
      && lhs.producerName == rhs.producerName && lhs.producerVersion == rhs.producerVersion
      && lhs.docString == rhs.docString && lhs.graph == rhs.graph
      && lhs.metadata.map(\.key) == rhs.metadata.map(\.key)
      && lhs.metadata.map(\.value) == rhs.metadata.map(\.value)
  }

  /// The value of metadata `key`, if present.
  public func metadata(_ key: String) -> String? { metadata.first { $0.key == key }?.value }

  /// The bytes of the `.onnx` file.
  public func serialized() -> [UInt8] {
    var writer = ProtobufWriter()
    writer.int(1, irVersion)
    writer.string(2, producerName)
    writer.string(3, producerVersion)
    if !docString.isEmpty { writer.string(6, docString) }
    writer.message(7) { graph.write(to: &$0) }
    for (domain, version) in opsetImports {
      writer.message(8) { opset in
        opset.string(1, domain)
        opset.int(2, version)
      }
    }
    for (key, value) in metadata {
      writer.message(14) { entry in
        entry.string(1, key)
        entry.string(2, value)
      }
    }
    return writer.bytes
  }

  /// Reads a model written by ``serialized()`` (or any model within the subset).
  ///
  /// - Throws: ``ExportError/malformedONNX(reason:)`` for bytes that are not such a model.
  public init(serialized bytes: [UInt8]) throws(ExportError) {
    var graph: ONNXGraph?
    self.init(graph: ONNXGraph(name: "", nodes: [], initializers: [], inputs: [], outputs: []))
    opsetImports = []
    producerName = ""
    producerVersion = ""
    for (field, value) in try ProtobufReader.fields(bytes[...]) {
      switch field {
      case 1: irVersion = try value.integer("ir_version")
      case 2: producerName = try value.string("producer_name")
      case 3: producerVersion = try value.string("producer_version")
      case 6: docString = try value.string("doc_string")
      case 7: graph = try ONNXGraph(fields: ProtobufReader.fields(value.data("graph")))
      case 8:
        var domain = ""
        var version = 0
        for (f, v) in try ProtobufReader.fields(value.data("opset_import")) {
          if f == 1 { domain = try v.string("domain") }
          if f == 2 { version = try v.integer("version") }
        }
        opsetImports.append((domain, version))
      case 14:
        var key = ""
        var text = ""
        for (f, v) in try ProtobufReader.fields(value.data("metadata_props")) {
          if f == 1 { key = try v.string("key") }
          if f == 2 { text = try v.string("value") }
        }
        metadata.append((key, text))
      default: continue
      }
    }
    guard let graph else { throw .malformedONNX(reason: "the model has no graph") }
    self.graph = graph
  }
}

/// An ONNX graph: nodes in topological order, weights, inputs and outputs.
public struct ONNXGraph: Equatable, Sendable {
  /// The graph's name.
  public var name: String
  /// The operators, each consuming values produced before it.
  public var nodes: [ONNXNode]
  /// The weights (and constant shapes and axes).
  public var initializers: [ONNXTensor]
  /// The graph's inputs (weights are not listed here).
  public var inputs: [ONNXValueInfo]
  /// The graph's outputs.
  public var outputs: [ONNXValueInfo]

  /// A graph from its parts.
  public init(
    name: String, nodes: [ONNXNode], initializers: [ONNXTensor], inputs: [ONNXValueInfo],
    outputs: [ONNXValueInfo]
  ) {
    self.name = name
    self.nodes = nodes
    self.initializers = initializers
    self.inputs = inputs
    self.outputs = outputs
  }

  /// The initializer called `name`, if any.
  public func initializer(_ name: String) -> ONNXTensor? { initializers.first { $0.name == name } }

  func write(to writer: inout ProtobufWriter) {
    for node in nodes { writer.message(1) { node.write(to: &$0) } }
    writer.string(2, name)
    for tensor in initializers { writer.message(5) { tensor.write(to: &$0) } }
    for input in inputs { writer.message(11) { input.write(to: &$0) } }
    for output in outputs { writer.message(12) { output.write(to: &$0) } }
  }

  init(fields: [(field: Int, value: ProtobufValue)]) throws(ExportError) {
    self.init(name: "", nodes: [], initializers: [], inputs: [], outputs: [])
    for (field, value) in fields {
      switch field {
      case 1: nodes.append(try ONNXNode(fields: ProtobufReader.fields(value.data("node"))))
      case 2: name = try value.string("graph name")
      case 5:
        initializers.append(
          try ONNXTensor(fields: ProtobufReader.fields(value.data("initializer"))))
      case 11: inputs.append(try ONNXValueInfo(fields: ProtobufReader.fields(value.data("input"))))
      case 12:
        outputs.append(try ONNXValueInfo(fields: ProtobufReader.fields(value.data("output"))))
      default: continue
      }
    }
  }
}

/// One operator application.
public struct ONNXNode: Equatable, Sendable {
  /// The names of the values it consumes (`""` for an omitted optional input).
  public var inputs: [String]
  /// The names of the values it produces.
  public var outputs: [String]
  /// A name unique in the graph.
  public var name: String
  /// The operator, e.g. `"Conv"`.
  public var opType: String
  /// The operator's attributes.
  public var attributes: [ONNXAttribute]

  /// A node from its parts.
  public init(
    _ opType: String, inputs: [String], outputs: [String], name: String,
    attributes: [ONNXAttribute] = []
  ) {
    self.opType = opType
    self.inputs = inputs
    self.outputs = outputs
    self.name = name
    self.attributes = attributes
  }

  /// The attribute called `name`, if any.
  public func attribute(_ name: String) -> ONNXAttribute? { attributes.first { $0.name == name } }

  func write(to writer: inout ProtobufWriter) {
    for input in inputs { writer.string(1, input) }
    for output in outputs { writer.string(2, output) }
    writer.string(3, name)
    writer.string(4, opType)
    for attribute in attributes { writer.message(5) { attribute.write(to: &$0) } }
  }

  init(fields: [(field: Int, value: ProtobufValue)]) throws(ExportError) {
    self.init("", inputs: [], outputs: [], name: "")
    for (field, value) in fields {
      switch field {
      case 1: inputs.append(try value.string("node input"))
      case 2: outputs.append(try value.string("node output"))
      case 3: name = try value.string("node name")
      case 4: opType = try value.string("op_type")
      case 5:
        attributes.append(try ONNXAttribute(fields: ProtobufReader.fields(value.data("attribute"))))
      default: continue
      }
    }
  }
}

/// A named attribute of a node: one integer, float, string, or a list of integers.
public struct ONNXAttribute: Equatable, Sendable {
  /// The attribute's value.
  public enum Value: Equatable, Sendable {
    /// `INT`.
    case int(Int)
    /// `FLOAT`.
    case float(Float)
    /// `STRING`.
    case string(String)
    /// `INTS`.
    case ints([Int])
  }

  /// The attribute's name, e.g. `"kernel_shape"`.
  public var name: String
  /// The attribute's value.
  public var value: Value

  /// An attribute.
  public init(_ name: String, _ value: Value) {
    self.name = name
    self.value = value
  }

  func write(to writer: inout ProtobufWriter) {
    writer.string(1, name)
    switch value {
    case .float(let f):
      writer.float(2, f)
      writer.int(20, 1)
    case .int(let i):
      writer.int(3, i)
      writer.int(20, 2)
    case .string(let s):
      writer.string(4, s)
      writer.int(20, 3)
    case .ints(let list):
      for i in list { writer.int(8, i) }
      writer.int(20, 7)
    }
  }

  init(fields: [(field: Int, value: ProtobufValue)]) throws(ExportError) {
    var name = ""
    var type = 0
    var (int, float, string, ints): (Int, Float, String, [Int]) = (0, 0, "", [])
    for (field, value) in fields {
      switch field {
      case 1: name = try value.string("attribute name")
      case 2: float = try value.float("attribute f")
      case 3: int = try value.integer("attribute i")
      case 4: string = try value.string("attribute s")
      case 8: ints += try value.integers("attribute ints")
      case 20: type = try value.integer("attribute type")
      default: continue
      }
    }
    switch type {
    case 1: self.init(name, .float(float))
    case 2: self.init(name, .int(int))
    case 3: self.init(name, .string(string))
    case 7: self.init(name, .ints(ints))
    default: throw .malformedONNX(reason: "attribute '\(name)' has type \(type), not supported")
    }
  }
}

/// A constant tensor: `float32` weights or `int64` shapes and axes, stored as raw little-endian
/// bytes.
public struct ONNXTensor: Equatable, Sendable {
  /// The element type.
  public enum Scalars: Equatable, Sendable {
    /// `FLOAT` (data type 1).
    case float([Float])
    /// `INT64` (data type 7).
    case int64([Int])

    /// Whether both hold the same type and bit patterns.
    public static func == (lhs: Scalars, rhs: Scalars) -> Bool {
      switch (lhs, rhs) {
      case (.float(let a), .float(let b)): a.map(\.bitPattern) == b.map(\.bitPattern)
      case (.int64(let a), .int64(let b)): a == b
      default: false
      }
    }
  }

  /// The tensor's name, the value name nodes use.
  public var name: String
  /// The tensor's shape.
  public var dims: [Int]
  /// The elements, row-major.
  public var scalars: Scalars

  /// A tensor from its parts.
  public init(name: String, dims: [Int], scalars: Scalars) {
    self.name = name
    self.dims = dims
    self.scalars = scalars
  }

  /// The elements as floats, or `nil` for an `int64` tensor.
  public var floats: [Float]? {
    if case .float(let values) = scalars { return values }
    return nil
  }

  func write(to writer: inout ProtobufWriter) {
    for dim in dims { writer.int(1, dim) }
    var raw: [UInt8] = []
    switch scalars {
    case .float(let values):
      writer.int(2, 1)
      raw.reserveCapacity(4 * values.count)
      for value in values {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) }
      }
    case .int64(let values):
      writer.int(2, 7)
      raw.reserveCapacity(8 * values.count)
      for value in values {
        withUnsafeBytes(of: Int64(value).littleEndian) { raw.append(contentsOf: $0) }
      }
    }
    writer.string(8, name)
    writer.data(9, raw)
  }

  init(fields: [(field: Int, value: ProtobufValue)]) throws(ExportError) {
    var dims: [Int] = []
    var type = 0
    var name = ""
    var raw: ArraySlice<UInt8> = []
    for (field, value) in fields {
      switch field {
      case 1: dims += try value.integers("dims")
      case 2: type = try value.integer("data_type")
      case 8: name = try value.string("tensor name")
      case 9: raw = try value.data("raw_data")
      default: continue
      }
    }
    guard dims.allSatisfy({ $0 >= 0 }) else {
      throw .malformedONNX(reason: "tensor '\(name)' has dims \(dims)")
    }
    let width = type == 1 ? 4 : 8
    // The element count and byte count; nil when either overflows an Int.
    let count = dims.reduce(Int?.some(1)) { product, extent in
      product.flatMap { p in
        let (result, overflow) = p.multipliedReportingOverflow(by: extent)
        return overflow ? nil : result
      }
    }
    let byteCount = count.flatMap { c in
      let (result, overflow) = c.multipliedReportingOverflow(by: width)
      return overflow ? nil : result
    }
    guard type == 1 || type == 7, let count, raw.count == byteCount else {
      throw .malformedONNX(
        reason: "tensor '\(name)': data type \(type) with \(raw.count) raw bytes for dims \(dims)")
    }
    let bytes = Array(raw)
    if type == 1 {
      let values = (0..<count).map { i in
        Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[4 * i + $1]) << (8 * $1) })
      }
      self.init(name: name, dims: dims, scalars: .float(values))
    } else {
      let values = (0..<count).map { i in
        Int(
          Int64(
            bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[8 * i + $1]) << (8 * $1) }))
      }
      self.init(name: name, dims: dims, scalars: .int64(values))
    }
  }
}

/// A graph input or output: its name, element type `float32` and shape, whose extents are
/// numbers or named symbols (`"batch"`).
public struct ONNXValueInfo: Equatable, Sendable {
  /// One extent of a shape.
  public enum Dimension: Equatable, Sendable {
    /// A fixed extent.
    case value(Int)
    /// A symbolic extent, fixed only when the model runs (`dim_param`).
    case symbol(String)
  }

  /// The value's name.
  public var name: String
  /// Its shape.
  public var shape: [Dimension]

  /// A `float32` value of the given shape.
  public init(name: String, shape: [Dimension]) {
    self.name = name
    self.shape = shape
  }

  func write(to writer: inout ProtobufWriter) {
    writer.string(1, name)
    writer.message(2) { type in
      type.message(1) { tensor in
        tensor.int(1, 1)  // FLOAT
        tensor.message(2) { shapeProto in
          for dimension in shape {
            shapeProto.message(1) { dim in
              switch dimension {
              case .value(let extent): dim.int(1, extent)
              case .symbol(let symbol): dim.string(2, symbol)
              }
            }
          }
        }
      }
    }
  }

  init(fields: [(field: Int, value: ProtobufValue)]) throws(ExportError) {
    self.init(name: "", shape: [])
    for (field, value) in fields {
      switch field {
      case 1: name = try value.string("value name")
      case 2:
        for (f, typeValue) in try ProtobufReader.fields(value.data("type")) where f == 1 {
          for (g, tensorValue) in try ProtobufReader.fields(typeValue.data("tensor_type")) {
            if g == 1, try tensorValue.integer("elem_type") != 1 {
              throw .malformedONNX(reason: "value '\(name)' is not float32")
            }
            guard g == 2 else { continue }
            for (h, dimValue) in try ProtobufReader.fields(tensorValue.data("shape")) where h == 1 {
              var dimension = Dimension.symbol("")
              for (k, v) in try ProtobufReader.fields(dimValue.data("dim")) {
                if k == 1 { dimension = .value(try v.integer("dim_value")) }
                if k == 2 { dimension = .symbol(try v.string("dim_param")) }
              }
              shape.append(dimension)
            }
          }
        }
      default: continue
      }
    }
  }
}
