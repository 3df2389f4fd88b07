import Foundation
import Tensor

extension Checkpoint {
  /// The `__metadata__` key under which a checkpoint stores its ``ModelCard`` as JSON.
  public static let modelCardKey = "hardistill.model-card"

  /// A checkpoint of `model`'s parameters and state, described by `card` (stored as JSON under
  /// ``modelCardKey``), and, if given, `optimizer`'s state.
  ///
  /// ```swift
  /// let card = try ModelCard(model: student, normalization: normalization, windowLength: 128)
  /// try Checkpoint(model: student, card: card).write(to: url)
  /// ```
  public init<Model: Layer>(
    model: Model, card: ModelCard, optimizer: (any Optimizer)? = nil,
    metadata: [String: String] = [:]
  ) {
    var metadata = metadata
    metadata[Self.modelCardKey] = card.encodedJSON()
    self.init(model: model, optimizer: optimizer, metadata: metadata)
  }

  /// The model card stored with the checkpoint, or `nil` for a checkpoint without one (written
  /// without a card, or before cards existed).
  ///
  /// - Parameter path: Names the checkpoint in errors.
  /// - Throws: ``CheckpointError/invalidModelCard(path:reason:)`` when the stored card is not a
  ///   valid ``ModelCard``.
  public func modelCard(path: String = "checkpoint") throws(CheckpointError) -> ModelCard? {
    guard let json = metadata[Self.modelCardKey] else { return nil }
    do {
      return try ModelCard(json: json)
    } catch {
      throw .invalidModelCard(path: path, reason: error.description)
    }
  }

  /// The model this checkpoint holds, rebuilt from its card's architecture with every parameter
  /// and state tensor loaded, and the card.
  ///
  /// - Parameter path: Names the checkpoint in errors.
  /// - Throws: ``CheckpointError/missingArchitecture(path:)`` for a checkpoint without an
  ///   architecture, ``CheckpointError/invalidModelCard(path:reason:)`` for one that cannot be
  ///   built or whose size disagrees with the tensors, and the errors of ``Layer/load(from:)``.
  public func model(path: String = "checkpoint") throws(CheckpointError) -> (
    model: Sequential, card: ModelCard
  ) {
    guard let card = try modelCard(path: path), let architecture = card.architecture else {
      throw .missingArchitecture(path: path)
    }
    // Compare sizes before allocating: a corrupted architecture must not ask for terabytes.
    let stored = tensors.filter { !$0.key.hasPrefix(Self.optimizerPrefix) }
      .reduce(0) { $0 + $1.value.scalarCount }
    guard let needed = architecture.scalarCount, needed == stored else {
      throw .invalidModelCard(
        path: path,
        reason: "the architecture needs \(architecture.scalarCount.map { "\($0)" } ?? "too many") "
          + "parameter scalars, the checkpoint holds \(stored)")
    }
    var model: Sequential
    do {
      model = try architecture.makeModel()
    } catch {
      throw .invalidModelCard(path: path, reason: error.description)
    }
    try model.load(from: self)
    return (model, card)
  }

  /// Reads the checkpoint at `url` and rebuilds its model from the file alone: no model needs
  /// to be built by hand first.
  ///
  /// ```swift
  /// let (model, card) = try Checkpoint.loadModel(from: url)
  /// let logits = model(card.normalization?.apply(to: windows) ?? windows)
  /// ```
  ///
  /// - Throws: ``CheckpointError`` naming the file: the errors of ``read(from:)``,
  ///   ``CheckpointError/missingArchitecture(path:)`` for a checkpoint written without an
  ///   architecture (load it into a caller-built model with ``Layer/load(from:)``),
  ///   ``CheckpointError/invalidModelCard(path:reason:)``, and the errors of
  ///   ``Layer/load(from:)``.
  public static func loadModel(from url: URL) throws(CheckpointError) -> (
    model: Sequential, card: ModelCard
  ) {
    try read(from: url).model(path: url.path)
  }
}
