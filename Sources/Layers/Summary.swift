import Tensor

/// A Keras-like table of a model's layers: output shape, parameters and forward FLOPs of each.
public struct ModelSummary: CustomStringConvertible, Sendable {
  /// One row of the table.
  public struct Row: Sendable, Equatable {
    /// The layer's index path and type, e.g. `"3 Conv1D"`.
    public var layer: String
    /// The layer's output shape for the summarized input shape.
    public var outputShape: [Int]
    /// Trainable scalars.
    public var parameters: Int
    /// Forward FLOPs for one example.
    public var flops: Int
  }

  /// The input shape summarized (batch axis first).
  public var inputShape: [Int]
  /// One row per layer.
  public var rows: [Row]
  /// The total trainable scalars.
  public var parameters: Int { rows.reduce(0) { $0 + $1.parameters } }
  /// The total forward FLOPs for one example.
  public var flops: Int { rows.reduce(0) { $0 + $1.flops } }

  /// The table: one line per layer (name, output shape, parameters, FLOPs), then the totals.
  public var description: String {
    func grouped(_ n: Int) -> String {
      let digits = String(n)
      var result = ""
      for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { result += "," }
        result.append(c)
      }
      return result
    }
    func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
      let gap = String(repeating: " ", count: Swift.max(0, width - s.count))
      return right ? gap + s : s + gap
    }
    let cells = rows.map {
      [$0.layer, "\($0.outputShape)", grouped($0.parameters), grouped($0.flops)]
    }
    let header = ["Layer", "Output shape", "Params", "FLOPs"]
    let footer = ["Total", "", grouped(parameters), grouped(flops)]
    let widths = (0..<4).map { column in
      ([header, footer] + cells).map { $0[column].count }.max() ?? 0
    }
    func line(_ row: [String]) -> String {
      (0..<4).map { pad(row[$0], widths[$0], right: $0 >= 2) }.joined(separator: "  ")
    }
    let rule = String(repeating: "─", count: widths.reduce(0, +) + 6)
    return ([line(header), rule] + cells.map(line) + [rule, line(footer)]).joined(separator: "\n")
  }
}

extension Sequential {
  /// The summary of this model for `inputShape` (batch axis first).
  ///
  /// - Throws: `ShapeError.inLayer(path:underlying:)` at the first layer that does not accept
  ///   its input.
  public func summary(inputShape: [Int]) throws(ShapeError) -> ModelSummary {
    var shape = inputShape
    var rows: [ModelSummary.Row] = []
    for (index, layer) in layers.enumerated() {
      let type = Sequential.typeName(of: layer)
      let output: [Int]
      do {
        output = try layer.outputShape(for: shape)
      } catch {
        throw .inLayer(path: "\(index) (\(type))", underlying: error)
      }
      rows.append(
        .init(
          layer: "\(index) \(type)", outputShape: output, parameters: layer.parameterCount,
          flops: layer.forwardFLOPs(for: shape)))
      shape = output
    }
    return ModelSummary(inputShape: inputShape, rows: rows)
  }
}
