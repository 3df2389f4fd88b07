import Foundation

/// What one layer costs for one input: the plain summary that `Layers` reports per layer.
///
/// FLOPs are counted as PyTorch and Keras model summaries count them: 2 per multiply-add of the
/// conv, dense and LSTM
/// matrix work (every kernel tap counts, including taps on padding zeros; bias adds are not counted
/// separately). Element-wise work (bias, activations, pooling, attention products) is kept apart in
/// ``elementwiseOperations`` and is not part of ``flops``.
///
/// Metrics does not import Layers; the experiment code converts the rows of Layers'
/// `ModelSummary` (from `Sequential.summary(inputShape:)`):
///
/// ```swift
/// let cost = try ModelCost(layers: summary.rows.map {
///   LayerCost(name: $0.layer, outputShape: $0.outputShape, parameters: $0.parameters,
///             flops: $0.flops)
/// })
/// ```
public struct LayerCost: Sendable, Equatable, Codable {
  /// The layer's dotted path and kind, e.g. `"3 (Conv1D)"`.
  public var name: String
  /// The shape of the layer's output as the layer reports it, e.g. `[1, 64, 32]` for
  /// `[batch, time, channels]`; only shown, never computed with.
  public var outputShape: [Int]
  /// The number of trainable scalars.
  public var parameters: Int
  /// Forward FLOPs for one example: 2 × multiply-adds of matrix work.
  public var flops: Int
  /// Forward element-wise operations for one example, not included in ``flops``.
  public var elementwiseOperations: Int

  /// A layer's cost; ``elementwiseOperations`` defaults to 0.
  public init(
    name: String, outputShape: [Int], parameters: Int, flops: Int, elementwiseOperations: Int = 0
  ) {
    self.name = name
    self.outputShape = outputShape
    self.parameters = parameters
    self.flops = flops
    self.elementwiseOperations = elementwiseOperations
  }
}

/// The cost of a whole model: totals over its layers, size in memory and on disk.
public struct ModelCost: Sendable, Equatable, Codable {
  /// Per-layer costs, in forward order.
  public let layers: [LayerCost]
  /// The size of the model's checkpoint file in bytes, if one was written.
  public let checkpointBytes: Int?

  /// Totals `layers`; `checkpointBytes` is the size of the saved checkpoint, if any.
  ///
  /// - Throws: ``MetricsError/invalidNumber(what:value:)`` for a negative count, naming the layer.
  public init(layers: [LayerCost], checkpointBytes: Int? = nil) throws(MetricsError) {
    for layer in layers {
      for (field, value) in [
        ("parameters", layer.parameters), ("flops", layer.flops),
        ("elementwiseOperations", layer.elementwiseOperations),
      ] where value < 0 {
        throw .invalidNumber(what: "\(layer.name) \(field)", value: "\(value)")
      }
    }
    if let checkpointBytes, checkpointBytes < 0 {
      throw .invalidNumber(what: "checkpoint bytes", value: "\(checkpointBytes)")
    }
    self.layers = layers
    self.checkpointBytes = checkpointBytes
  }

  /// Totals `layers` and reads the checkpoint's size from the file at `checkpoint`.
  ///
  /// - Throws: ``MetricsError/fileError(path:reason:)`` if the file's size cannot be read.
  public init(layers: [LayerCost], checkpoint: URL) throws(MetricsError) {
    try self.init(layers: layers, checkpointBytes: try Self.fileSize(at: checkpoint))
  }

  /// The number of trainable scalars of the model.
  public var parameters: Int { layers.reduce(0) { $0 + $1.parameters } }
  /// Forward FLOPs for one example (matrix work only, 2 per multiply-add).
  public var flops: Int { layers.reduce(0) { $0 + $1.flops } }
  /// Forward element-wise operations for one example, listed apart from ``flops``.
  public var elementwiseOperations: Int { layers.reduce(0) { $0 + $1.elementwiseOperations } }
  /// The parameters' size as float32: `4 × parameters` bytes.
  public var float32Bytes: Int { 4 * parameters }

  /// The size in bytes of the file at `url`.
  ///
  /// - Throws: ``MetricsError/fileError(path:reason:)`` if it does not exist or is not a file.
  public static func fileSize(at url: URL) throws(MetricsError) -> Int {
    do {
      let values = try url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
      guard values.isRegularFile == true, let size = values.fileSize else {
        throw MetricsError.fileError(path: url.path, reason: "not a regular file")
      }
      return size
    } catch let error as MetricsError {
      throw error
    } catch {
      throw .fileError(path: url.path, reason: "cannot read size: \(error.localizedDescription)")
    }
  }

  /// A Markdown table of the layers and the totals, like Keras' `model.summary()`.
  public var markdownTable: String {
    var lines = [
      "| layer | output | parameters | FLOPs | element-wise |",
      "|---|---|---:|---:|---:|",
    ]
    for layer in layers {
      let shape = layer.outputShape.map(String.init).joined(separator: " × ")
      lines.append(
        "| \(layer.name) | \(shape) | \(Format.grouped(layer.parameters)) | "
          + "\(Format.grouped(layer.flops)) | \(Format.grouped(layer.elementwiseOperations)) |")
    }
    lines.append(
      "| **total** | | **\(Format.grouped(parameters))** | **\(Format.grouped(flops))** | "
        + "\(Format.grouped(elementwiseOperations)) |")
    var text = lines.joined(separator: "\n") + "\n\n"
    text += "float32 size: \(Format.bytes(float32Bytes))"
    if let checkpointBytes { text += "; checkpoint file: \(Format.bytes(checkpointBytes))" }
    return text + "\n"
  }
}
