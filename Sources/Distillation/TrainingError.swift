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

  /// The message: what went wrong and where (epoch, step, file or layer).
  public var description: String {
    switch self {
    case let .nonFiniteLoss(epoch, step, part):
      "non-finite loss (\(part)) at epoch \(epoch), step \(step); hint: lower the learning rate "
        + "or clip gradients"
    case let .nonFiniteGradient(epoch, step, parameter):
      "non-finite gradient of '\(parameter)' at epoch \(epoch), step \(step); hint: lower the "
        + "learning rate or clip gradients"
    case let .invalidData(message): "invalid training data: \(message)"
    case let .shape(error): "model and data do not fit: \(error)"
    case let .distillation(error): "distillation: \(error)"
    case let .checkpoint(error): "checkpoint: \(error)"
    }
  }
}
