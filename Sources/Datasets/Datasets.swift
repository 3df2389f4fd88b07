/// Loaders, windowing, normalization and subject splits for HAR data sets (DESIGN §8).
public enum DatasetsModule {
  /// The module's version of the data-set API.
  public static let version = "0.1.0"
}
