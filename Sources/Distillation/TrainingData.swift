import Datasets
import Layers
import Metrics
import Tensor

/// Labelled windows ready for training: inputs `[examples, time, channels]` and one label each.
public struct TrainingData {
  /// `[examples, time, channels]`.
  public var inputs: Tensor
  /// One class index per example, in `0..<classes`.
  public var labels: [Int]
  /// The number of classes.
  public var classes: Int

  /// Labelled windows; checks that there is one label per example and every label is a class.
  ///
  /// - Throws: ``TrainingError/invalidData(_:)`` saying what does not fit.
  public init(inputs: Tensor, labels: [Int], classes: Int) throws(TrainingError) {
    guard inputs.rank >= 2, inputs.shape[0] == labels.count else {
      throw .invalidData(
        "inputs shaped \(inputs.shape) need one label per example, got \(labels.count)")
    }
    if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
      throw .invalidData("label \(bad) is outside 0..<\(classes)")
    }
    self.inputs = inputs
    self.labels = labels
    self.classes = classes
  }

  /// The number of examples.
  public var count: Int { labels.count }

  /// The inputs and labels of the examples at `indices`.
  public func batch(_ indices: [Int]) -> (inputs: Tensor, labels: [Int]) {
    (inputs.gathering(rows: indices), indices.map { labels[$0] })
  }
}

extension TrainingData {
  /// How a source orders each window's values.
  public enum Layout: Sendable, Equatable {
    /// `[time, channels]` per window, the layout every model here takes.
    case channelsLast
    /// `[channels, time]` per window, e.g. arrays exported from PyTorch; transposed on the way in.
    case channelsFirst
  }

  /// Windows from the Datasets module, ready for training.
  ///
  /// - Throws: ``TrainingError/invalidData(_:)`` if a label is outside the windows' classes.
  public init(_ windows: LabeledWindows) throws(TrainingError) {
    let inputs: Tensor
    do throws(ShapeError) {
      inputs = try Tensor(shape: windows.shape, scalars: windows.values)
    } catch {
      throw .shape(error)
    }
    try self.init(inputs: inputs, labels: windows.labels, classes: windows.classNames.count)
  }

  /// Labelled windows from flat values in either layout.
  ///
  /// - Parameters:
  ///   - values: `examples · time · channels` values, ordered as `layout` says.
  ///   - examples: The number of windows.
  ///   - time: Time steps per window.
  ///   - channels: Channels per time step.
  ///   - layout: The order of each window's values.
  ///   - labels: One class index per window.
  ///   - classes: The number of classes.
  /// - Throws: ``TrainingError/invalidData(_:)`` if the value or label count does not match the
  ///   sizes, or a label is outside `0..<classes`.
  public init(
    values: [Float], examples: Int, time: Int, channels: Int, layout: Layout, labels: [Int],
    classes: Int
  ) throws(TrainingError) {
    guard examples >= 0, time >= 1, channels >= 1,
      values.count == examples * time * channels
    else {
      throw .invalidData(
        "\(values.count) values do not make \(examples) windows of \(time) × \(channels)")
    }
    var ordered = values
    if layout == .channelsFirst {
      for e in 0..<examples {
        let base = e * time * channels
        for c in 0..<channels {
          for t in 0..<time { ordered[base + t * channels + c] = values[base + c * time + t] }
        }
      }
    }
    let inputs: Tensor
    do throws(ShapeError) {
      inputs = try Tensor(shape: [examples, time, channels], scalars: ordered)
    } catch {
      throw .shape(error)
    }
    try self.init(inputs: inputs, labels: labels, classes: classes)
  }

  /// The classification report of `predictions` (one class index per example) against the
  /// labels; every class `0..<classes` is reported, present or not.
  public func report(predictions: [Int]) -> ClassificationReport {
    // Labels lie in 0..<classes by construction, and so do arg-max predictions of a model whose
    // output has `classes` columns; anything else is a programming error worth a message.
    do {
      return try ClassificationReport(
        labels: labels, predictions: predictions, classes: Array(0..<classes))
    } catch {
      fatalError("TrainingData.report(predictions:): \(error)")
    }
  }
}

extension Layer {
  /// Accuracy, macro-F1, per-class scores and the confusion matrix of this model on `data`, in
  /// inference mode.
  ///
  /// - Throws: ``TrainingError/shape(_:)`` if the model does not map `data`'s windows to one
  ///   score per class.
  public func evaluate(on data: TrainingData) throws(TrainingError) -> ClassificationReport {
    do throws(ShapeError) {
      let output = try outputShape(for: data.inputs.shape)
      guard output == [data.count, data.classes] else {
        throw ShapeError.incompatible(
          operation: "evaluate", lhs: output, rhs: [data.count, data.classes],
          rule: "[examples, classes]")
      }
    } catch {
      throw .shape(error)
    }
    return data.report(predictions: predict(data.inputs).argmaxAlongLastAxis())
  }
}
