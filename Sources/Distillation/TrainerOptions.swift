import Foundation
import Layers

/// Where the trainer reports progress.
public enum ProgressOutput: Sendable, Equatable {
  /// A live line redrawn during each epoch on a terminal; one plain line per epoch otherwise.
  case automatic
  /// One plain line per epoch.
  case lines
  /// Nothing.
  case silent
}

/// How to train: epochs, batches, optimizer settings, early stopping, logging and checkpoints.
public struct TrainerOptions: Sendable {
  /// The most epochs to run.
  public var epochs: Int = 100
  /// Examples per mini-batch; the last, partial batch is kept.
  public var batchSize: Int = 64
  /// Adam's learning rate (or the start of `schedule`).
  public var learningRate: Float = 1e-3
  /// Epochs without a better validation score before stopping; the best weights are restored.
  public var patience: Int = 10
  /// How much validation macro-F1 must rise to count as better; an epoch within it of the best
  /// counts as better only if it reaches at least the best macro-F1 with a lower validation loss.
  public var minimumImprovement: Double = 0
  /// Training never stops early before this many epochs.
  public var minimumEpochs: Int = 1
  /// Seeds the data-order and dropout streams (`RandomStream`), each derived from it.
  public var seed: UInt64 = 0
  /// Clip gradients to this global norm, if set.
  public var gradientClipNorm: Float?
  /// A cross-entropy warm-up for distillation: the first this-many epochs train with α = 1
  /// (the labels' cross-entropy alone, the KD term weighted 0; attention transfer keeps its β),
  /// the later epochs with the set-up's α. 0 (the default) distils from the first step. Without
  /// a teacher it changes nothing.
  public var distillationWarmupEpochs: Int = 0
  /// The learning rate per epoch, if set (otherwise constant `learningRate`).
  public var schedule: LearningRateSchedule?
  /// Progress lines on standard output.
  public var progress: ProgressOutput = .automatic
  /// A name shown at the start of progress lines, e.g. `"RAB-KD seed 1"`.
  public var label: String = ""
  /// A JSON-lines log of every epoch, rewritten atomically after each epoch.
  public var logURL: URL?
  /// A checkpoint written atomically after every epoch, from which training can resume.
  public var checkpointURL: URL?
  /// Resume from `checkpointURL` if it exists.
  public var resume: Bool = false
  /// Metadata written into every per-epoch checkpoint, e.g. what the run was trained with.
  public var checkpointMetadata: [String: String] = [:]
  /// Slices of each mini-batch differentiated in parallel (data parallelism, see
  /// `valueWithGradients(of:batchSize:shards:_:)`); they run on at most
  /// `KernelConfiguration.current.threadCount` threads. The shards, not the threads, decide how
  /// a batch is cut, so a run gives the same weights on any thread count; the number of shards
  /// changes only the order of float sums (tested: gradients within 1e-5 of the largest), not
  /// the dropout masks or the data order. Models with batch statistics always train in one piece.
  public var shards: Int = 2

  /// The defaults: 100 epochs, batch 64, Adam at 1e-3, patience 10, two shards.
  public init() {}
}

/// What happened in one epoch.
public struct EpochRecord: Sendable, Equatable, Codable {
  /// 1-based epoch number.
  public var epoch: Int
  /// Mean total loss over the epoch's batches.
  public var loss: Double
  /// Mean cross-entropy part.
  public var crossEntropy: Double
  /// Mean KD part.
  public var distillation: Double
  /// Mean channel attention-transfer part.
  public var channelAttention: Double
  /// Mean spatial attention-transfer part.
  public var spatialAttention: Double
  /// Accuracy on the training batches, as seen during the epoch (training mode).
  public var trainAccuracy: Double
  /// Validation accuracy after the epoch, if there is a validation set.
  public var validationAccuracy: Double?
  /// Validation macro-F1 after the epoch, if there is a validation set.
  public var validationMacroF1: Double?
  /// Mean cross-entropy on the validation set after the epoch, if there is one.
  public var validationLoss: Double?
  /// The learning rate used.
  public var learningRate: Double
  /// Training examples per second (validation excluded).
  public var samplesPerSecond: Double
  /// Wall-clock seconds of the epoch, validation included.
  public var seconds: Double
}

/// The record of a training run: per-epoch curves and the epoch whose weights were kept.
public struct TrainingHistory: Sendable, Equatable, Codable {
  /// One record per epoch run.
  public var epochs: [EpochRecord] = []
  /// The epoch whose weights the model holds at the end (1-based; the last without validation).
  public var bestEpoch: Int = 0
  /// The best validation macro-F1, if there was a validation set.
  public var bestValidationMacroF1: Double?
  /// The validation loss of the best epoch, if there was a validation set.
  public var bestValidationLoss: Double?
  /// Whether early stopping ended the run before `epochs`.
  public var stoppedEarly: Bool = false
  /// Wall-clock seconds spent training, summed over the epochs (across resumptions).
  public var trainSeconds: Double = 0
}
