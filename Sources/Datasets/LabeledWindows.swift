/// Fixed-length windows of multichannel sensor data with one class label and one subject each.
///
/// `values` is row-major with `shape` `[windows, time, channels]`: the value of channel `c` at
/// time step `t` of window `w` is `values[(w * time + t) * channels + c]`. Plain arrays make the
/// type `Sendable`, so batches can be prepared on another task; the trainer turns them into
/// tensors.
public struct LabeledWindows: Sendable, Equatable {
  /// The samples, `shape[0] * shape[1] * shape[2]` of them, channels fastest.
  public var values: [Float]
  /// `[windows, time, channels]`.
  public var shape: [Int]
  /// The class index of each window, in `0..<classNames.count`.
  public var labels: [Int]
  /// The subject (user, volunteer) each window was recorded from, as the data set numbers them.
  public var subjects: [Int]
  /// The name of each class index, e.g. `["WALKING", …]`.
  public var classNames: [String]

  /// Windows from their parts; stops the program if the parts disagree.
  ///
  /// - Parameters:
  ///   - values: `windows * time * channels` samples in `[windows, time, channels]` order.
  ///   - shape: `[windows, time, channels]`.
  ///   - labels: One class index per window, each in `0..<classNames.count`.
  ///   - subjects: One subject per window.
  ///   - classNames: The name of each class index.
  public init(
    values: [Float], shape: [Int], labels: [Int], subjects: [Int], classNames: [String]
  ) {
    precondition(
      shape.count == 3 && shape.allSatisfy { $0 >= 0 },
      "LabeledWindows: shape \(shape) is not [windows, time, channels]")
    precondition(
      values.count == shape[0] * shape[1] * shape[2],
      "LabeledWindows: shape \(shape) needs \(shape[0] * shape[1] * shape[2]) values, "
        + "found \(values.count)")
    precondition(
      labels.count == shape[0] && subjects.count == shape[0],
      "LabeledWindows: \(shape[0]) windows need as many labels and subjects, found "
        + "\(labels.count) and \(subjects.count)")
    precondition(
      labels.allSatisfy { (0..<classNames.count).contains($0) },
      "LabeledWindows: labels must lie in 0..<\(classNames.count)")
    self.values = values
    self.shape = shape
    self.labels = labels
    self.subjects = subjects
    self.classNames = classNames
  }

  /// No windows of `length` time steps and `channels` channels.
  public init(length: Int, channels: Int, classNames: [String]) {
    self.init(
      values: [], shape: [0, length, channels], labels: [], subjects: [], classNames: classNames)
  }

  /// The number of windows, `shape[0]`.
  public var count: Int { shape[0] }
  /// The number of time steps per window, `shape[1]`.
  public var length: Int { shape[1] }
  /// The number of channels, `shape[2]`.
  public var channelCount: Int { shape[2] }
  /// Whether there are no windows.
  public var isEmpty: Bool { shape[0] == 0 }

  /// The samples of window `index`, shaped `[time, channels]`.
  public func window(_ index: Int) -> ArraySlice<Float> {
    let size = shape[1] * shape[2]
    return values[index * size..<(index + 1) * size]
  }

  /// The windows at `indices`, in that order.
  public func selecting(_ indices: some Sequence<Int>) -> LabeledWindows {
    let size = shape[1] * shape[2]
    var result = LabeledWindows(length: shape[1], channels: shape[2], classNames: classNames)
    for index in indices {
      result.values += values[index * size..<(index + 1) * size]
      result.labels.append(labels[index])
      result.subjects.append(subjects[index])
    }
    result.shape[0] = result.labels.count
    return result
  }

  /// Appends the windows of `other`, which must have the same window shape and classes.
  public mutating func append(contentsOf other: LabeledWindows) {
    precondition(
      other.shape[1...] == shape[1...] && other.classNames == classNames,
      "LabeledWindows.append: windows \(other.shape) with classes \(other.classNames) do not fit "
        + "\(shape) with classes \(classNames)")
    values += other.values
    labels += other.labels
    subjects += other.subjects
    shape[0] += other.shape[0]
  }

  /// How many windows carry each class, indexed like ``classNames``.
  public func classCounts() -> [Int] {
    var counts = [Int](repeating: 0, count: classNames.count)
    for label in labels { counts[label] += 1 }
    return counts
  }

  /// The distinct subjects, ascending.
  public var subjectIDs: [Int] { Array(Set(subjects)).sorted() }
}
