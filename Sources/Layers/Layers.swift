/// Layers, models, optimizers and checkpoints built on ``Tensor`` (DESIGN §4).
///
/// The layer API arrives with its own issue; this namespace marks the module until then.
public enum LayersModule {
  /// The module's version of the layer API.
  public static let version = "0.1.0"
}
