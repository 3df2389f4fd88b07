import Datasets
import Export
import Foundation
import Layers
import Tensor
import Testing

/// The Swift side of `Scripts/onnx-hapt.sh`: a trained model's logits on UCI HAPT's raw test
/// windows, written beside the windows and labels so that ONNX Runtime can be run on the same
/// windows and compared prediction by prediction. Runs only when the script sets the variables.
@Suite("ONNX on HAPT fixture")
struct HAPTFixtureTests {
  static let environment = ProcessInfo.processInfo.environment
  static let checkpoint = environment["HARDISTILL_ONNX_HAPT_CHECKPOINT"]

  @Test(
    .enabled(
      if: checkpoint != nil,
      "set HARDISTILL_ONNX_HAPT_CHECKPOINT and its two companions (Scripts/onnx-hapt.sh does)")
  )
  func writeFixture() throws {
    let url = URL(fileURLWithPath: try #require(Self.checkpoint))
    let data = try #require(Self.environment["HARDISTILL_HAPT"])
    let out = URL(fileURLWithPath: try #require(Self.environment["HARDISTILL_ONNX_HAPT_OUT"]))
    let (model, card) = try Checkpoint.loadModel(from: url)
    let normalization = try #require(card.normalization)
    // The raw test windows, exactly as the examples load them: the loader's own split.
    let test = try HAPT.load(from: data).test
    let raw = try Tensor(shape: test.shape, scalars: test.values)
    let logits = model.predict(normalization.apply(to: raw))
    try floats(test.values).write(to: out.appendingPathComponent("hapt.input.f32"))
    try floats(logits.scalars).write(to: out.appendingPathComponent("hapt.expected.f32"))
    try Data(test.labels.map(String.init).joined(separator: "\n").utf8)
      .write(to: out.appendingPathComponent("hapt.labels.txt"))
    try Data("\(test.shape.map(String.init).joined(separator: " ")) \(logits.shape[1])\n".utf8)
      .write(to: out.appendingPathComponent("hapt.shape.txt"))
  }

  /// Little-endian float32 bytes.
  func floats(_ values: [Float]) -> Data {
    var data = Data(capacity: 4 * values.count)
    for value in values {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    return data
  }
}
