import CommandLineOptions
import Foundation
import Tensor

/// Everything that determines a run's result, as named settings: the data (a digest of the
/// prepared windows, so a changed file or split shows), the configuration, the hyper-parameters,
/// the seed, the teacher's weights (a digest) and the package version. `--resume` and the reuse of
/// a teacher found in the output folder accept a stored run only if its fingerprint is equal.
public struct RunFingerprint: Codable, Sendable, Equatable {
  /// The settings by name, each as text.
  public var settings: [String: String]

  /// A fingerprint of these settings.
  public init(settings: [String: String]) { self.settings = settings }

  /// The version of the package that trains runs; part of every fingerprint.
  public static let packageVersion = "0.2.0"

  /// One line per setting that differs, e.g. `alpha: stored 0.1, now 0.9`.
  public func differences(from stored: RunFingerprint) -> [String] {
    Set(settings.keys).union(stored.settings.keys).sorted().compactMap { key in
      let (old, new) = (stored.settings[key], settings[key])
      guard old != new else { return nil }
      return "\(key): stored \(old ?? "(none)"), now \(new ?? "(none)")"
    }
  }

  /// The fingerprint as JSON text, for checkpoint metadata.
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
  }

  /// The fingerprint stored as JSON text, if it decodes.
  public init?(json: String?) {
    guard let json, let decoded = try? JSONDecoder().decode(Self.self, from: Data(json.utf8))
    else { return nil }
    self = decoded
  }

  /// The metadata key under which checkpoints store their fingerprint.
  public static let metadataKey = "fingerprint"

  /// The settings of `configuration`'s fingerprint that the options alone decide: not the data,
  /// the split, the seed, the fold or the teacher's weights. Keys that runs stored before them
  /// lack (`initialization`, `kdWarmup`) appear only when they differ from the old behaviour.
  static func optionSettings(_ run: RunOptions, configuration: Configuration) -> [String: String] {
    var settings = [
      "dataset": run.dataset.rawValue, "family": run.family.name,
      "epochs": "\(run.epochs)", "patience": "\(run.patience)", "batchSize": "\(run.batchSize)",
      "learningRate": "\(run.learningRate)", "clipNorm": run.clipNorm.map { "\($0)" } ?? "none",
      "shards": "\(run.shards)",
    ]
    if run.initialization != .glorot {
      settings["initialization"] = run.initialization.rawValue
    }
    if case .deepConvLSTM = run.family {
      settings["attention"] =
        "\(run.attention.position),\(run.attention.reduction),\(run.attention.spatialKernel)"
    }
    if configuration.teacher != nil {
      settings["temperature"] = "\(run.temperature)"
      settings["alpha"] = "\(run.alpha)"
      settings["temperatureSquared"] = "\(run.temperatureSquared)"
      if run.kdWarmup > 0 { settings["kdWarmup"] = "\(run.kdWarmup)" }
      if configuration.transfersAttention {
        settings["beta"] = "\(run.beta)"
        settings["channelAlignment"] = run.channelAlignment.optionValue
      }
    }
    return settings
  }

  /// Every key ``optionSettings(_:configuration:)`` can give: those it gives for options that
  /// name every optional key, so the list cannot fall behind the function.
  static let optionKeys: [String] = {
    var every = RunOptions()
    every.family = .deepConvLSTM()
    every.initialization = .pytorch
    every.kdWarmup = 1
    return optionSettings(every, configuration: .rabKD).keys.sorted()
  }()
}

/// A 64-bit FNV-1a digest, written as 16 hex digits: enough to tell data sets and weights apart.
struct Digest {
  private var state: UInt64 = 0xcbf2_9ce4_8422_2325

  mutating func add(_ value: UInt64) {
    var v = value
    for _ in 0..<8 {
      state = (state ^ (v & 0xff)) &* 0x100_0000_01b3
      v >>= 8
    }
  }

  mutating func add(_ values: [Float]) {
    add(UInt64(values.count))
    for value in values { add(UInt64(value.bitPattern)) }
  }

  mutating func add(_ values: [Int]) {
    add(UInt64(values.count))
    for value in values { add(UInt64(bitPattern: Int64(value))) }
  }

  mutating func add(_ tensor: Tensor) {
    add(tensor.shape)
    tensor.withUnsafeBufferPointer { buffer in
      add(UInt64(buffer.count))
      for value in buffer { add(UInt64(value.bitPattern)) }
    }
  }

  var hex: String {
    let text = String(state, radix: 16)
    return String(repeating: "0", count: 16 - text.count) + text
  }
}
