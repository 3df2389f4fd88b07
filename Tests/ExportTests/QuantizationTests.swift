import Export
import Foundation
import Layers
import Tensor
import Testing

@Suite("Int8 quantization")
struct QuantizationTests {
  /// Hand-computed: 0.5 = 2^30 · 2^-31; 0.1 = 0.8 · 2^-3, so its multiplier is
  /// round(0.8 · 2^31) = 1,717,986,918 (slightly below 0.8 · 2^31) and its shift 34.
  @Test func requantizerIntegersAndRounding() {
    let half = Requantizer(scale: 0.5)
    #expect(half.multiplier == 1 << 30 && half.shift == 31)
    #expect(half.apply(3) == 2)  // 1.5: ties toward +infinity
    #expect(half.apply(-3) == -1)  // -1.5 → -1
    #expect(half.apply(5) == 3)  // 2.5 → 3
    #expect(half.apply(-4) == -2)
    let tenth = Requantizer(scale: 0.1)
    #expect(tenth.multiplier == 1_717_986_918 && tenth.shift == 34)
    #expect(tenth.apply(1000) == 100)
    #expect(tenth.apply(16) == 2)  // 1.6
    #expect(tenth.apply(-16) == -2)
    // 15 · 0.1 is a tie, but the multiplier is below 0.8 · 2^31: 1.4999999998 → 1.
    #expect(tenth.apply(15) == 1)
    // Clamping: int8 is symmetric, ReLU clamps at 0.
    #expect(Requantizer(scale: 1).int8(1000) == 127)
    #expect(Requantizer(scale: 1).int8(-1000) == -127)
    #expect(Requantizer(scale: 1).int8(-5, lowerBound: 0) == 0)
    // A scale of 1 is 2^30 · 2^-30; 1/3 is round(2/3 · 2^31) · 2^-32.
    #expect(Requantizer(scale: 1) == Requantizer(multiplier: 1 << 30, shift: 30))
    #expect(Requantizer(scale: 1.0 / 3) == Requantizer(multiplier: 1_431_655_765, shift: 32))
    #expect(Requantizer(scale: 1.0 / 3).apply(-300) == -100)
    #expect(Requantizer(scale: 0).apply(12345) == 0)
    #expect(abs(Requantizer(scale: 0.0123).scale - 0.0123) < 1e-11)
  }

  /// Windows for calibration and evaluation: the synthetic activities of the package's own
  /// generator would need Datasets; here, smooth random signals per class with noise.
  static func syntheticWindows(_ count: Int, timeSteps: Int, seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    var scalars: [Float] = []
    scalars.reserveCapacity(count * timeSteps * ExportCase.channels)
    for index in 0..<count {
      let activity = Float(index % 6)
      let noise = Tensor.uniform([timeSteps * ExportCase.channels], in: -0.5...0.5, using: &rng)
        .scalars
      for t in 0..<timeSteps {
        for c in 0..<ExportCase.channels {
          let phase = Float(t) * (0.05 + 0.03 * activity) + Float(c)
          scalars.append(
            (1 + activity / 3) * Float(sin(Double(phase))) + 0.3 * activity
              + noise[t * ExportCase.channels + c])
        }
      }
    }
    return try! Tensor(shape: [count, timeSteps, ExportCase.channels], scalars: scalars)
  }

  /// The int8 executor against the float model: on random and on structured windows, the same
  /// class on most windows and logits within a few quantization steps. The bounds are what
  /// random weights give (at worst 0.965 agreement and 23% of the largest logit, LM-Att with
  /// MSE calibration on the structured windows), rounded outwards.
  @Test(arguments: CExportTests.students)
  func int8AgreesWithTheFloatModel(_ testCase: ExportCase) throws {
    let (model, card) = try testCase.make()
    let graph = try InferenceGraph(model: model, card: card)
    let normalization = try #require(card.normalization)
    for (label, calibration, evaluation) in [
      (
        "random", CExportTests.windows(256, timeSteps: 128, seed: 1),
        CExportTests.windows(256, timeSteps: 128, seed: 2)
      ),
      (
        "synthetic", Self.syntheticWindows(256, timeSteps: 128, seed: 1),
        Self.syntheticWindows(256, timeSteps: 128, seed: 2)
      ),
    ] {
      for method in [CalibrationMethod.minMax, .percentile(99.99), .mse] {
        let quantized = try QuantizedModel(
          graph: graph, calibrationWindows: calibration, method: method)
        let float = model(normalization.apply(to: evaluation))
        let int8 = quantized.logits(for: evaluation)
        let floatScalars = float.scalars
        let int8Scalars = int8.scalars
        let largest = floatScalars.map(abs).max()!
        let error = zip(floatScalars, int8Scalars).map { abs($0 - $1) }.max()!
        let floatClasses = (0..<256).map { row in
          let slice = Array(floatScalars[(6 * row)..<(6 * row + 6)])
          return slice.firstIndex(of: slice.max()!)!
        }
        let agreement =
          Double(
            zip(floatClasses, quantized.predictions(for: evaluation)).filter { $0 == $1 }.count)
          / 256
        print(
          "\(testCase.name) \(label) \(method): agreement \(agreement), max logit error "
            + "\(error) (largest |logit| \(largest), output step \(quantized.outputScale))")
        #expect(agreement >= 0.95, "\(testCase.name) \(label) \(method)")
        #expect(error <= 0.25 * largest + 4 * quantized.outputScale, "\(testCase.name) \(label)")
      }
    }
  }

  @Test func calibrationWindowsMustFit() throws {
    let (model, card) = try CExportTests.students[0].make()
    let graph = try InferenceGraph(model: model, card: card)
    #expect(throws: ExportError.self) {
      try QuantizedModel(
        graph: graph, calibrationWindows: CExportTests.windows(4, timeSteps: 64, seed: 1))
    }
  }

  /// The int8 C, compiled with the system `cc`, gives bit for bit the Swift executor's scores
  /// and classes on every window.
  @Test(arguments: CExportTests.students)
  func int8CIsBitIdenticalToTheSwiftExecutor(_ testCase: ExportCase) throws {
    guard SystemC.compiler != nil else {
      print("skipped: no `cc` on PATH to compile the generated C")
      return
    }
    let (model, card) = try testCase.make()
    let graph = try InferenceGraph(model: model, card: card)
    for method in [CalibrationMethod.minMax, .percentile(99.9), .mse] {
      let quantized = try QuantizedModel(
        graph: graph, calibrationWindows: Self.syntheticWindows(128, timeSteps: 128, seed: 3),
        method: method)
      let source = try quantized.cSource(
        name: "q_" + testCase.name.replacingOccurrences(of: "-", with: "_"))
      #expect(!source.implementation.contains("math.h"))
      // Random windows well outside the calibration range too, so that clamping is exercised,
      // and a window with NaN and infinite samples.
      var odd = CExportTests.windows(1, timeSteps: 128, seed: 6).scalars
      for index in stride(from: 0, to: odd.count, by: 7) { odd[index] = .nan }
      for index in stride(from: 3, to: odd.count, by: 11) { odd[index] = -.infinity }
      for index in stride(from: 5, to: odd.count, by: 13) { odd[index] = .infinity }
      let windows = Tensor.concatenating(
        [
          try Tensor(shape: [1, 128, ExportCase.channels], scalars: odd),
          Self.syntheticWindows(200, timeSteps: 128, seed: 4),
          CExportTests.windows(100, timeSteps: 128, seed: 5) * 3,
        ], alongAxis: 0)
      let (scores, classes) = try SystemC.predict(source, windows: windows, classes: 6)
      let expected = quantized.logits(for: windows).scalars
      #expect(scores.map(\.bitPattern) == expected.map(\.bitPattern), "\(testCase.name) \(method)")
      #expect(classes == quantized.predictions(for: windows), "\(testCase.name) \(method)")
    }
  }
}

/// Writes what `Scripts/cortex-m4-check.sh` runs on an emulated Cortex-M4: for LM, LM-Att and
/// MM (random weights, a random normalization, calibrated on structured windows), a folder
/// `<name>/` with the int8 C (`<name>_int8.c`, `.h`), the float C (`<name>_float.c`, `.h`),
/// 300 raw windows (`windows.f32`) and the Swift int8 executor's output on them in the host
/// harness's format (`expected.bin`: per window, the scores as floats and the class as an
/// int32), plus `manifest.tsv`.
@Suite("C fixtures")
struct CFixtures {
  static let folder = ProcessInfo.processInfo.environment["HARDISTILL_C_FIXTURES"]

  @Test(
    .enabled(
      if: folder != nil,
      "set HARDISTILL_C_FIXTURES to a folder (Scripts/cortex-m4-check.sh does) to write them"))
  func writeFixtures() throws {
    let folder = URL(fileURLWithPath: try #require(Self.folder))
    var manifest = "name\twindows\ttime\tchannels\tclasses\tarena\tweights\tmacs\n"
    for (index, testCase) in CExportTests.students.enumerated() {
      let (model, card) = try testCase.make(seed: UInt64(300 + index))
      let graph = try InferenceGraph(model: model, card: card)
      let quantized = try QuantizedModel(
        graph: graph,
        calibrationWindows: QuantizationTests.syntheticWindows(
          256, timeSteps: testCase.timeSteps, seed: 10))
      let name = testCase.name.replacingOccurrences(of: "-", with: "_")
      let directory = folder.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let int8 = try quantized.cSource(name: name + "_int8")
      try int8.write(to: directory)
      try graph.cSource(name: name + "_float").write(to: directory)
      let windows = Tensor.concatenating(
        [
          QuantizationTests.syntheticWindows(200, timeSteps: testCase.timeSteps, seed: 11),
          CExportTests.windows(100, timeSteps: testCase.timeSteps, seed: 12),
        ], alongAxis: 0)
      try rawFloats(windows.scalars).write(to: directory.appendingPathComponent("windows.f32"))
      let scores = quantized.logits(for: windows).scalars
      let classes = quantized.predictions(for: windows)
      var expected = Data()
      for (row, predicted) in classes.enumerated() {
        expected += rawFloats(
          Array(scores[(row * testCase.classes)..<((row + 1) * testCase.classes)]))
        withUnsafeBytes(of: Int32(predicted).littleEndian) { expected.append(contentsOf: $0) }
      }
      try expected.write(to: directory.appendingPathComponent("expected.bin"))
      manifest +=
        "\(name)\t\(classes.count)\t\(testCase.timeSteps)\t\(ExportCase.channels)\t"
        + "\(testCase.classes)\t\(int8.arenaBytes)\t\(int8.weightBytes)\t"
        + "\(int8.multiplyAccumulates)\n"
    }
    try Data(manifest.utf8).write(to: folder.appendingPathComponent("manifest.tsv"))
  }
}
