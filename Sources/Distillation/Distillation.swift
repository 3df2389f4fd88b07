/// Knowledge-distillation and attention-transfer losses and the trainer (DESIGN §6–7).
///
/// The losses and the trainer arrive with their own issue; this namespace marks the module until then.
public enum DistillationModule {
  /// The module's version of the distillation API.
  public static let version = "0.1.0"
}
