/// The supported data sets by their command-line ids (`--dataset`), each loadable with its
/// default options.
public enum DatasetID: String, CaseIterable, Sendable {
  /// UCI HAR, read by ``UCIHAR``.
  case uciHAR = "uci-har"
  /// UCI HAPT, read by ``HAPT``.
  case uciHAPT = "uci-hapt"
  /// WISDM v1.1, read by ``WISDM`` (strict).
  case wisdm = "wisdm"
  /// WISDM 2019 watch, read by ``WISDMWatch`` (strict).
  case wisdmWatch = "wisdm-watch"
  /// OPPORTUNITY gestures on the 113 challenge channels, read by ``Opportunity``.
  case opportunity = "opportunity"
  /// A user's CSV file, read by ``CSV``; needs a ``CSV/Layout``, so it cannot load by id alone.
  case csv = "csv"
  /// The built-in generated data set, ``Synthetic``.
  case synthetic = "synthetic"

  /// The channels per sample with the default options; nil where the file decides (`csv`).
  public var channelCount: Int? {
    switch self {
    case .uciHAR, .synthetic: 9
    case .uciHAPT, .wisdmWatch: 6
    case .wisdm: 3
    case .opportunity: 113
    case .csv: nil
    }
  }

  /// Loads the data set from `root` with its loader's defaults (`root` is ignored by
  /// `synthetic`, which uses seed 0).
  ///
  /// - Throws: What the loader throws; ``DatasetError/invalidOption(name:value:expected:)`` for
  ///   `csv`, which needs ``CSV/load(_:layout:windowing:)``.
  public func load(from root: String) throws(DatasetError) -> TrainTestSplit {
    switch self {
    case .uciHAR: try UCIHAR.load(from: root)
    case .uciHAPT: try HAPT.load(from: root)
    case .wisdm: try WISDM.load(from: root)
    case .wisdmWatch: try WISDMWatch.load(from: root)
    case .opportunity: try Opportunity.load(from: root)
    case .synthetic: try Synthetic.load()
    case .csv:
      throw .invalidOption(
        name: "dataset", value: rawValue,
        expected: "a column layout: call CSV.load(_:layout:windowing:) and split by subject")
    }
  }
}
