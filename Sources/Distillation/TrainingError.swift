import Layers
import Tensor

/// Why training stopped or could not start.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
  /// The loss (or one of its parts) became NaN or infinite.
  case nonFiniteLoss(epoch: Int, step: Int, part: String)
  /// A gradient became NaN or infinite.
  case nonFiniteGradient(epoch: Int, step: Int, parameter: String)
  /// The data do not fit together or with the model.
  case invalidData(String)
  /// The model does not accept the data's shape.
  case shape(ShapeError)
  /// The distillation set-up does not fit the models.
  case distillation(DistillationError)
  /// A checkpoint could not be written or resumed from.
  case checkpoint(CheckpointError)
  /// The training log could not be written.
  case log(path: String, reason: String)

  /// The message: what went wrong and where (epoch, step, file or layer).
  public var description: String {
    switch self {
    case .nonFiniteLoss(let epoch, let step, let part):
      "non-finite loss (\(part)) at epoch \(epoch), step \(step); hint: lower the learning rate "
        + "or clip gradients"
    case .nonFiniteGradient(let epoch, let step, let parameter):
      "non-finite gradient of '\(parameter)' at epoch \(epoch), step \(step); hint: lower the "
        + "learning rate or clip gradients"
    case .invalidData(let message): "invalid training data: \(message)"
    case .shape(let error): "model and data do not fit: \(error)"
    case .distillation(let error): "distillation: \(error)"
    case .checkpoint(let error): "checkpoint: \(error)"
    case .log(let path, let reason): "\(path): cannot write the training log: \(reason)"
    }
  }
}
