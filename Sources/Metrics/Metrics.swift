/// Classification metrics, cost summaries and reports, on plain numbers (DESIGN §9).
public enum MetricsModule {
  /// The module's version of the metrics API.
  public static let version = "0.1.0"
}
