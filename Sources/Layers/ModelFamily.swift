import Tensor

/// Which family of models plays the study's roles (``ReferenceModel``): the 1-D CNNs of
/// ``ReferenceModel`` or the study's own DeepConvLSTM models (``DeepConvLSTM``).
///
/// Configurations stay role-based: a configuration names a ``ReferenceModel`` role (teacher,
/// teacher-att, mm, lm, lm-att) and the family turns it into a model with
/// ``make(_:channels:classes:initialization:generator:)``. Either way the attention block is named
/// ``ReferenceModel/attentionName``; its maps are `[batch, channels]` and `[batch, time]` for
/// the CNNs, `[batch, filters]` and `[batch, time, sensors]` for DeepConvLSTM.
public enum ModelFamily: Sendable, Equatable {
  /// The Conv1D family of ``ReferenceModel/make(channels:classes:initialization:generator:)``.
  case cnn
  /// DeepConvLSTM (Ordóñez & Roggen, Sensors 2016): teacher and teacher-att are OM (64 filters,
  /// 128 units), mm is MM (8 / 16), lm and lm-att are LM (4 / 8); the `-att` roles carry a CBAM-2D
  /// block after convolution `attentionPosition` (1–4) with reduction ratio `reduction` and a
  /// `spatialKernel × spatialKernel` spatial filter (Woo et al., ECCV 2018).
  case deepConvLSTM(attentionPosition: Int = 4, reduction: Int = 8, spatialKernel: Int = 7)

  /// The family's name on the command line and in `results.json`: `"cnn"` or `"deepconvlstm"`.
  public var name: String {
    switch self {
    case .cnn: "cnn"
    case .deepConvLSTM: "deepconvlstm"
    }
  }

  /// The shortest window (time steps) the family's models accept: 1 for the CNNs (global
  /// pooling takes any length), 17 for DeepConvLSTM (four `valid` 5×1 convolutions).
  public var minimumTimeSteps: Int {
    switch self {
    case .cnn: 1
    case .deepConvLSTM: DeepConvLSTM.minimumTimeSteps
    }
  }

  /// The DeepConvLSTM architecture that plays `role`, or `nil` in the CNN family.
  public func architecture(of role: ReferenceModel) -> DeepConvLSTM? {
    guard case .deepConvLSTM(let position, let reduction, let kernel) = self else { return nil }
    let width: DeepConvLSTM =
      switch role {
      case .teacher, .teacherAtt: .om
      case .mm: .mm
      case .lm, .lmAtt: .lm
      }
    let attention = DeepConvLSTM.Attention(
      position: position, reduction: reduction, spatialKernel: kernel)
    return width.with(attention: role.hasAttention ? attention : nil)
  }

  /// A freshly initialized model playing `role` for windows `[batch, time, channels]` with
  /// `classes` output classes; it returns logits `[batch, classes]`. Its parameters are drawn
  /// with the Keras defaults unless `initialization` is `.pytorch`.
  public func make(
    _ role: ReferenceModel, channels: Int, classes: Int,
    initialization: WeightInitialization = .glorot, generator: inout some RandomNumberGenerator
  ) -> Sequential {
    guard let architecture = architecture(of: role) else {
      return role.make(
        channels: channels, classes: classes, initialization: initialization,
        generator: &generator)
    }
    return architecture.make(
      sensors: channels, classes: classes, initialization: initialization, generator: &generator)
  }
}
