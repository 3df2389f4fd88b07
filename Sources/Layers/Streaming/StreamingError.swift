import Tensor

/// Why a ``StreamingRecognizer`` cannot be made, or why it refused samples.
///
/// Errors thrown by ``StreamingRecognizer/append(_:)`` leave the recognizer as it was before the
/// call: none of the rejected samples is kept, and later calls work as if the bad one never
/// happened.
public enum StreamingError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The model has a layer the recognizer cannot run; `index` is its position in the model.
  case unsupportedLayer(index: Int, type: String, reason: String)
  /// The hop is not a multiple of the product of the strides in front of some layer.
  case hopNotAllowed(hop: Int, multiple: Int, reason: String)
  /// A setting is out of range (window length, normalization, smoothing, threshold).
  case invalidSetting(name: String, value: String, expected: String)
  /// The model rejects windows of the recognizer's shape.
  case shape(ShapeError)
  /// Samples with another channel count than the model's input.
  case wrongChannelCount(expected: Int, found: Int)
  /// Samples that are not `[time, channels]`.
  case wrongRank(shape: [Int])
  /// A NaN or infinite value at `sample` (counted from the start of the rejected call) and
  /// `channel`.
  case nonFinite(sample: Int, channel: Int, value: Float)
  /// The checkpoint could not be read, or its model not rebuilt from its card.
  case checkpoint(CheckpointError)
  /// The checkpoint's model card lacks a field the recognizer needs (`normalization` or
  /// `windowLength`).
  case incompleteModelCard(path: String, missing: String)

  /// One line naming what was wrong.
  public var description: String {
    switch self {
    case .unsupportedLayer(let index, let type, let reason):
      return "StreamingRecognizer: layer \(index) (\(type)) is not supported: \(reason)"
    case .hopNotAllowed(let hop, let multiple, let reason):
      return "StreamingRecognizer: hop \(hop) is not allowed: it must be a multiple of "
        + "\(multiple) (\(reason))"
    case .invalidSetting(let name, let value, let expected):
      return "StreamingRecognizer: \(name) \(value) is invalid: expected \(expected)"
    case .shape(let error):
      return "StreamingRecognizer: \(error)"
    case .wrongChannelCount(let expected, let found):
      return "StreamingRecognizer: samples have \(found) channels, the model expects \(expected)"
    case .wrongRank(let shape):
      return "StreamingRecognizer: samples shaped \(shape) are not [time, channels]"
    case .nonFinite(let sample, let channel, let value):
      return "StreamingRecognizer: sample \(sample), channel \(channel) is \(value); "
        + "no sample of the call was used"
    case .checkpoint(let error):
      return "StreamingRecognizer: \(error)"
    case .incompleteModelCard(let path, let missing):
      return "StreamingRecognizer: \(path): the model card has no \(missing); write the "
        + "checkpoint with one (ModelCard(model:normalization:windowLength:))"
    }
  }
}
