import Foundation
import Tensor

/// Why a model's architecture or card could not be described, built or read.
public enum ModelCardError: Error, Equatable, CustomStringConvertible {
  /// A layer whose type is not built in (a custom layer) has no architecture.
  case undescribableLayer(path: String, type: String)
  /// An architecture with a hyperparameter its layer type rejects, or an unknown format.
  case invalidArchitecture(reason: String)
  /// A card field that is not valid (normalization statistics, names, window length, rate).
  case invalidField(reason: String)

  /// The message, e.g. `layer 3 (SqueezeExcitation) is not a built-in layer: it has no
  /// architecture`.
  public var description: String {
    switch self {
    case .undescribableLayer(let path, let type):
      "layer \(path) (\(type)) is not a built-in layer: it has no architecture"
    case .invalidArchitecture(let reason): "invalid architecture: \(reason)"
    case .invalidField(let reason): "invalid model card: \(reason)"
    }
  }
}

/// The per-channel z-score a model expects its input windows to have been through:
/// `(x[t, c] − mean[c]) / standardDeviation[c]`.
///
/// Stored in a checkpoint's ``ModelCard`` so that whoever runs the model (in Swift, or as an
/// exported graph) can feed it raw sensor windows.
public struct InputNormalization: Codable, Equatable, Sendable {
  /// The mean of each channel, in channel order.
  public let mean: [Float]
  /// The standard deviation of each channel, in channel order; every one finite and > 0.
  public let standardDeviation: [Float]

  /// A normalization from per-channel statistics.
  ///
  /// - Throws: ``ModelCardError/invalidField(reason:)`` unless both lists have the same,
  ///   non-zero length, every mean is finite and every standard deviation finite and positive.
  public init(mean: [Float], standardDeviation: [Float]) throws(ModelCardError) {
    guard !mean.isEmpty, mean.count == standardDeviation.count else {
      throw .invalidField(
        reason: "normalization: \(mean.count) means and \(standardDeviation.count) standard "
          + "deviations; both must be the same non-zero count")
    }
    guard mean.allSatisfy(\.isFinite), standardDeviation.allSatisfy({ $0.isFinite && $0 > 0 })
    else {
      throw .invalidField(
        reason: "normalization: means must be finite, standard deviations finite and > 0")
    }
    self.mean = mean
    self.standardDeviation = standardDeviation
  }

  /// The number of channels.
  public var channels: Int { mean.count }

  /// `(input − mean) / standardDeviation` over the last axis of `input` (`[…, channels]`).
  public func apply(to input: Tensor) -> Tensor {
    (input - Tensor(mean)) / Tensor(standardDeviation)
  }

  private enum CodingKeys: String, CodingKey { case mean, standardDeviation }

  /// Decodes and validates a normalization, as ``init(mean:standardDeviation:)``.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(
      mean: container.decode([Float].self, forKey: .mean),
      standardDeviation: container.decode([Float].self, forKey: .standardDeviation))
  }
}

/// What a checkpoint says about the model it holds, beyond its tensors: the architecture (to
/// rebuild it), the input normalization, the class and channel names, the window length and the
/// sampling rate. Every field is optional.
///
/// ```swift
/// let card = try ModelCard(
///   model: student, normalization: normalization,
///   classNames: ["walk", "upstairs", "downstairs", "sit", "stand", "lie"],
///   channelNames: channels, windowLength: 128, samplingRate: 50)
/// try Checkpoint(model: student, card: card).write(to: url)
/// let (model, stored) = try Checkpoint.loadModel(from: url)   // no model rebuilt by hand
/// ```
///
/// In the file the card is one JSON string in the safetensors `__metadata__`, under
/// ``Checkpoint/modelCardKey``; Python reads it with
/// `json.loads(safe_open(path, "np").metadata()["hardistill.model-card"])`.
public struct ModelCard: Codable, Equatable, Sendable {
  /// The model's layers, or `nil` if it has a custom layer (then it cannot be rebuilt from the
  /// file alone).
  public var architecture: ModelArchitecture?
  /// The z-score the inputs need, or `nil` if the model takes them as they are.
  public var normalization: InputNormalization?
  /// The name of each output class, in logit order.
  public var classNames: [String]?
  /// The name of each input channel, in channel order.
  public var channelNames: [String]?
  /// The number of time steps of a window the model was trained on.
  public var windowLength: Int?
  /// The sampling rate of the input, in hertz.
  public var samplingRate: Double?

  /// An empty card: no architecture, normalization or names.
  public init() {}

  /// A card from its fields.
  ///
  /// - Throws: ``ModelCardError/invalidField(reason:)`` when the channel names and the
  ///   normalization disagree on the channel count, a window length is not positive or a sampling
  ///   rate not finite and positive.
  public init(
    architecture: ModelArchitecture?, normalization: InputNormalization? = nil,
    classNames: [String]? = nil, channelNames: [String]? = nil, windowLength: Int? = nil,
    samplingRate: Double? = nil
  ) throws(ModelCardError) {
    self.architecture = architecture
    self.normalization = normalization
    self.classNames = classNames
    self.channelNames = channelNames
    self.windowLength = windowLength
    self.samplingRate = samplingRate
    try validate()
  }

  /// A card for `model`, whose architecture is described with
  /// ``ModelArchitecture/init(describing:)`` (`nil` for a model with a custom layer).
  ///
  /// - Throws: ``ModelCardError/invalidField(reason:)`` as ``init(architecture:normalization:classNames:channelNames:windowLength:samplingRate:)``.
  public init(
    model: Sequential, normalization: InputNormalization? = nil, classNames: [String]? = nil,
    channelNames: [String]? = nil, windowLength: Int? = nil, samplingRate: Double? = nil
  ) throws(ModelCardError) {
    try self.init(
      architecture: model.architecture, normalization: normalization, classNames: classNames,
      channelNames: channelNames, windowLength: windowLength, samplingRate: samplingRate)
  }

  /// Checks the fields against each other.
  ///
  /// - Throws: ``ModelCardError/invalidField(reason:)`` naming the first bad field.
  public func validate() throws(ModelCardError) {
    if let normalization, let channelNames, normalization.channels != channelNames.count {
      throw .invalidField(
        reason: "\(channelNames.count) channel names but a normalization of "
          + "\(normalization.channels) channels")
    }
    if let windowLength, windowLength <= 0 {
      throw .invalidField(reason: "window length \(windowLength) must be > 0")
    }
    if let samplingRate, !(samplingRate.isFinite && samplingRate > 0) {
      throw .invalidField(reason: "sampling rate \(samplingRate) must be finite and > 0")
    }
  }

  /// The card as JSON (keys sorted, so equal cards encode equally).
  public func encodedJSON() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Every float is finite (validated), so encoding cannot fail.
    let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
  }

  /// A card from ``encodedJSON()``.
  ///
  /// - Throws: ``ModelCardError/invalidField(reason:)`` for JSON that is not a valid card.
  public init(json: String) throws(ModelCardError) {
    do {
      self = try JSONDecoder().decode(ModelCard.self, from: Data(json.utf8))
    } catch let error as ModelCardError {
      throw error
    } catch {
      throw .invalidField(reason: "not a model card: \(error)")
    }
    try validate()
  }
}
