import Datasets
import Foundation

/// How a fuzzer input becomes a data set on disk and which loader reads it.
///
/// Shared, as one file, by the libFuzzer harness (`Fuzz/build.sh` compiles it into the fuzzer) and
/// by ``FuzzCorpusTests``, which replays `Fuzz/corpus/<target>/` through the same code. Only public
/// API is used. Inputs that need several files are split at NUL bytes, in the order listed.
enum DatasetFuzzTarget: String, CaseIterable, Sendable {
  /// Signal rows (written to all 9 signal files of both parts), `y`, `subject` of the training
  /// part, and `subject` of the test part if the input has a fourth part (otherwise the
  /// training subjects again, which the loader refuses as overlapping once the files parse).
  case uciHAR = "uci-har"
  /// `acc_exp01_user01.txt`, `gyro_exp01_user01.txt`, `labels.txt`.
  case hapt
  /// The raw file, loaded strictly and leniently.
  case wisdm
  /// The accelerometer file, the gyroscope file of subject 1600.
  case wisdmWatch = "wisdm-watch"
  /// One `.dat` file, both channel sets and both label columns.
  case opportunity
  /// A CSV file with the columns `subject`, `label`, `t`, `x`, `y`.
  case csv
  /// A column layout, then a CSV file read with it. The layout is one name per line: the
  /// subject column, the label column, the timestamp column (an empty line for none), then the
  /// channel columns (empty lines skipped). Names the layout would repeat are dropped (a layout naming a column twice
  /// is refused before the file is opened), and a layout without channels reads `x`.
  case csvLayout = "csv-layout"

  /// Short windows, so that small inputs reach the windowing code too.
  static let windowing = WindowingOptions(length: 2, step: 1, maxGap: 1_000_000_000)

  /// Writes `input` as this target's files under `folder` and loads them.
  ///
  /// - Returns: The number of windows or samples read.
  /// - Throws: The loader's ``DatasetError``; anything else (a trap) is a bug.
  func load(_ input: [UInt8], in folder: String) throws(DatasetError) -> Int {
    let parts = input.split(separator: 0, omittingEmptySubsequences: false)
    func part(_ i: Int) -> [UInt8] { i < parts.count ? Array(parts[i]) : [] }
    func write(_ relativePath: String, _ bytes: [UInt8]) {
      let path = folder + "/" + relativePath
      let parent = (path as NSString).deletingLastPathComponent
      try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
      _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }
    switch self {
    case .uciHAR:
      for split in ["train", "test"] {
        for channel in UCIHAR.channelNames {
          write("UCI HAR Dataset/\(split)/Inertial Signals/\(channel)_\(split).txt", part(0))
        }
        write("UCI HAR Dataset/\(split)/y_\(split).txt", part(1))
        write(
          "UCI HAR Dataset/\(split)/subject_\(split).txt",
          split == "test" && parts.count > 3 ? part(3) : part(2))
      }
      let split = try UCIHAR.load(from: folder)
      return split.train.count + split.test.count
    case .hapt:
      write("RawData/acc_exp01_user01.txt", part(0))
      write("RawData/gyro_exp01_user01.txt", part(1))
      write("RawData/labels.txt", part(2))
      let (streams, _) = try HAPT.loadRecordings(from: folder, includeTransitions: true)
      let windows = try LabeledWindows(
        windowing: streams, options: Self.windowing, classNames: HAPT.activityNames)
      return windows.count
    case .wisdm:
      write("WISDM_ar_v1.1_raw.txt", input)
      let lenient = try? WISDM.load(from: folder, policy: .skip, windowing: Self.windowing)
      let strict = try WISDM.loadRecordings(from: folder, policy: .strict)
      return (lenient?.train.count ?? 0) + strict.streams.count
    case .wisdmWatch:
      write("raw/watch/accel/data_1600_accel_watch.txt", part(0))
      write("raw/watch/gyro/data_1600_gyro_watch.txt", part(1))
      let (streams, _) = try WISDMWatch.loadRecordings(from: folder, policy: .skip)
      let windows = try LabeledWindows(
        windowing: streams, options: Self.windowing, classNames: WISDMWatch.activityNames)
      return windows.count
    case .opportunity:
      let path = folder + "/S1-ADL1.dat"
      write("S1-ADL1.dat", input)
      var count = 0
      for (channels, labels) in [
        (Opportunity.Channels.lowerArms, Opportunity.Labels.locomotion), (.challenge, .gestures),
      ] {
        guard
          let stream = try? Opportunity.loadRecording(
            path, subject: 1, channels: channels, labels: labels)
        else { continue }
        let options = WindowingOptions(
          length: 2, step: 1, labelRule: .majority, boundaries: .keep, maxGap: 1000)
        count += try LabeledWindows(
          windowing: [stream], options: options, classNames: labels.classNames
        ).count
      }
      return try count + Opportunity.loadRecording(path, subject: 1).sampleCount
    case .csv:
      let path = folder + "/data.csv"
      write("data.csv", input)
      let layout = CSV.Layout(
        subject: "subject", label: "label", channels: ["x", "y"], timestamp: "t")
      let fixed = CSV.Layout(
        subject: "subject", label: "label", channels: ["x", "y"], classNames: ["a", "b"])
      let known = (try? CSV.load(path, layout: fixed, windowing: Self.windowing))?.count ?? 0
      return try CSV.load(path, layout: layout, windowing: Self.windowing).count + known
    case .csvLayout:
      let path = folder + "/data.csv"
      write("data.csv", part(1))
      var names = String(decoding: part(0), as: UTF8.self)
        .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      names += Array(repeating: "", count: Swift.max(0, 3 - names.count))
      var used = Set<String>()
      func unique(_ name: String) -> String? { used.insert(name).inserted ? name : nil }
      let subject = unique(names[0]) ?? "subject"
      used.insert(subject)
      let label = unique(names[1]) ?? "label"
      used.insert(label)
      let timestamp = names[2].isEmpty ? nil : unique(names[2])
      var channels = names.dropFirst(3).filter { !$0.isEmpty }.compactMap(unique)
      if channels.isEmpty { channels = [unique("x") ?? "x\(used.count)"] }
      let layout = CSV.Layout(
        subject: subject, label: label, channels: channels, timestamp: timestamp)
      return try CSV.load(path, layout: layout, windowing: Self.windowing).count
    }
  }
}
