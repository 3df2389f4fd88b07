import Foundation
import Layers
import Tensor

/// Why a model could not be turned into an ``InferenceGraph``, written as ONNX, or read back.
public enum ExportError: Error, Equatable, CustomStringConvertible {
  /// The model has a layer that is not built in, or its card has no architecture.
  case missingArchitecture(String)
  /// The input's channel count cannot be told from the card or the first layer.
  case unknownInputChannels
  /// The tensors do not fit the architecture (a missing, unexpected or misshapen tensor).
  case checkpoint(CheckpointError)
  /// A layer rejects the shape it would receive.
  case shape(ShapeError)
  /// The model uses something the exporter cannot express.
  case unsupported(String)
  /// The file could not be written.
  case unwritable(path: String, reason: String)
  /// Bytes that are not the ONNX subset this package writes.
  case malformedONNX(reason: String)

  /// The message.
  public var description: String {
    switch self {
    case .missingArchitecture(let reason): "no architecture to export: \(reason)"
    case .unknownInputChannels:
      "the input's channel count is unknown: give the card a normalization or channel names"
    case .checkpoint(let error): "\(error)"
    case .shape(let error): "\(error)"
    case .unsupported(let reason): "cannot export: \(reason)"
    case .unwritable(let path, let reason): "\(path): cannot write: \(reason)"
    case .malformedONNX(let reason): "malformed ONNX: \(reason)"
    }
  }
}

/// Writes `data` with `writeReplacing(_:to:)` (a `.partial` sibling renamed over `url`): a crash
/// never leaves a half-written file, and a failed write (a full disk) removes its partial file.
///
/// - Throws: ``ExportError/unwritable(path:reason:)``.
func writeAtomically(_ data: Data, to url: URL) throws(ExportError) {
  do {
    try writeReplacing(data, to: url)
  } catch {
    throw .unwritable(path: url.path, reason: error.reason)
  }
}
