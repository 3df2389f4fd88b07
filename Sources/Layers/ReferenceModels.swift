import Tensor

/// The CNN family of the study: a teacher, a moderate model
/// and the lightweight student, each with or without CBAM.
///
/// All are Conv1D (`same`, kernel 5) + ReLU stacks ending in global average pooling and a dense
/// layer that outputs logits; they accept any input length. CBAM blocks are named `"cbam"`, the
/// key of their maps in ``ForwardContext/attentionMaps``.
public enum ReferenceModel: String, CaseIterable, Sendable {
  /// 9→64, 64→64, MaxPool 2, 64→128, 128→128, GAP, Dense 128→128 + ReLU, Dropout 0.5, Dense.
  case teacher
  /// The teacher with CBAM(128, r = 8, k = 7) after its fourth convolution.
  case teacherAtt = "teacher-att"
  /// 9→32, MaxPool 2, 32→64, GAP, Dense 64→classes.
  case mm
  /// 9→16, MaxPool 2, 16→32, GAP, Dense 32→classes: the student.
  case lm
  /// The student with CBAM(32, r = 4, k = 7) after its second convolution.
  case lmAtt = "lm-att"

  /// Whether the model has a CBAM block.
  public var hasAttention: Bool { self == .teacherAtt || self == .lmAtt }

  /// The key under which the model's CBAM block leaves its maps.
  public static let attentionName = "cbam"

  /// A freshly initialized model for windows with `channels` channels and `classes` output
  /// classes: Glorot-uniform kernels and zero biases by default, PyTorch's defaults with
  /// `initialization: .pytorch` (see ``WeightInitialization``).
  public func make(
    channels: Int, classes: Int, initialization: WeightInitialization = .glorot,
    generator: inout some RandomNumberGenerator
  ) -> Sequential {
    let weights = initialization.weight
    func conv(_ input: Int, _ output: Int, _ rng: inout some RandomNumberGenerator) -> Conv1D {
      Conv1D(
        inputChannels: input, outputChannels: output, kernelSize: 5, padding: .same,
        filterInitializer: weights, biasInitializer: initialization.bias(fanIn: 5 * input),
        generator: &rng)
    }
    func dense(_ input: Int, _ output: Int, _ rng: inout some RandomNumberGenerator) -> Dense {
      Dense(
        inputSize: input, outputSize: output, weightInitializer: weights,
        biasInitializer: initialization.bias(fanIn: input), generator: &rng)
    }
    switch self {
    case .teacher, .teacherAtt:
      return Sequential {
        conv(channels, 64, &generator)
        ReLU()
        conv(64, 64, &generator)
        ReLU()
        MaxPool1D(kernelSize: 2)
        conv(64, 128, &generator)
        ReLU()
        conv(128, 128, &generator)
        ReLU()
        if self == .teacherAtt {
          CBAM(
            channels: 128, reduction: 8, spatialKernel: 7, name: Self.attentionName,
            weightInitializer: weights, generator: &generator)
        }
        GlobalAvgPool1D()
        dense(128, 128, &generator)
        ReLU()
        Dropout(rate: 0.5)
        dense(128, classes, &generator)
      }
    case .mm:
      return Sequential {
        conv(channels, 32, &generator)
        ReLU()
        MaxPool1D(kernelSize: 2)
        conv(32, 64, &generator)
        ReLU()
        GlobalAvgPool1D()
        dense(64, classes, &generator)
      }
    case .lm, .lmAtt:
      return Sequential {
        conv(channels, 16, &generator)
        ReLU()
        MaxPool1D(kernelSize: 2)
        conv(16, 32, &generator)
        ReLU()
        if self == .lmAtt {
          CBAM(
            channels: 32, reduction: 4, spatialKernel: 7, name: Self.attentionName,
            weightInitializer: weights, generator: &generator)
        }
        GlobalAvgPool1D()
        dense(32, classes, &generator)
      }
    }
  }
}
