import Foundation
import Metrics
import Testing

/// The per-layer costs the PyTorch and Keras summaries give for one 128 × 9 window, 6 classes.
enum AnchorModels {
  static let lm: [LayerCost] = [
    LayerCost(name: "0 (Conv1D)", outputShape: [128, 16], parameters: 736, flops: 184_320),
    LayerCost(name: "1 (MaxPool1D)", outputShape: [64, 16], parameters: 0, flops: 0),
    LayerCost(name: "2 (Conv1D)", outputShape: [64, 32], parameters: 2_592, flops: 327_680),
    LayerCost(name: "3 (GlobalAvgPool1D)", outputShape: [32], parameters: 0, flops: 0),
    LayerCost(name: "4 (Dense)", outputShape: [6], parameters: 198, flops: 384),
  ]

  static let teacherAttention: [LayerCost] = [
    LayerCost(name: "0 (Conv1D)", outputShape: [128, 64], parameters: 2_944, flops: 737_280),
    LayerCost(name: "1 (Conv1D)", outputShape: [128, 64], parameters: 20_544, flops: 5_242_880),
    LayerCost(name: "2 (MaxPool1D)", outputShape: [64, 64], parameters: 0, flops: 0),
    LayerCost(name: "3 (Conv1D)", outputShape: [64, 128], parameters: 41_088, flops: 5_242_880),
    LayerCost(name: "4 (Conv1D)", outputShape: [64, 128], parameters: 82_048, flops: 10_485_760),
    LayerCost(name: "5 (CBAM)", outputShape: [64, 128], parameters: 4_110, flops: 18_176),
    LayerCost(name: "6 (GlobalAvgPool1D)", outputShape: [128], parameters: 0, flops: 0),
    LayerCost(name: "7 (Dense)", outputShape: [128], parameters: 16_512, flops: 32_768),
    LayerCost(name: "8 (Dropout)", outputShape: [128], parameters: 0, flops: 0),
    LayerCost(name: "9 (Dense)", outputShape: [6], parameters: 774, flops: 1_536),
  ]
}

@Suite("Model cost")
struct CostTests {
  @Test func totalsMatchTheAnchorModels() throws {
    let lm = try ModelCost(layers: AnchorModels.lm)
    #expect(lm.parameters == 3_526 && lm.flops == 512_384)
    #expect(lm.float32Bytes == 14_104 && lm.checkpointBytes == nil)
    let teacher = try ModelCost(layers: AnchorModels.teacherAttention)
    #expect(teacher.parameters == 168_020 && teacher.flops == 21_761_280)
    #expect(teacher.float32Bytes == 672_080)
  }

  @Test func elementwiseWorkIsListedApart() throws {
    let layer = LayerCost(
      name: "0 (Conv1D)", outputShape: [4, 2], parameters: 10, flops: 64, elementwiseOperations: 16)
    let cost = try ModelCost(layers: [layer, layer])
    #expect(cost.flops == 128 && cost.elementwiseOperations == 32)
  }

  @Test func checkpointSizeIsReadFromTheFile() throws {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("metrics-cost-\(UUID().uuidString).safetensors")
    try Data(repeating: 7, count: 14_240).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let cost = try ModelCost(layers: AnchorModels.lm, checkpoint: url)
    #expect(cost.checkpointBytes == 14_240)
  }

  @Test func missingCheckpointThrowsNamingThePath() {
    let url = URL(fileURLWithPath: "/nonexistent/lm.safetensors")
    #expect {
      try ModelCost(layers: AnchorModels.lm, checkpoint: url)
    } throws: { error in
      guard case .fileError(let path, _)? = error as? MetricsError else { return false }
      return path == "/nonexistent/lm.safetensors"
    }
  }

  @Test func negativeCountsThrowNamingTheLayer() {
    let bad = LayerCost(name: "2 (Dense)", outputShape: [6], parameters: -1, flops: 12)
    #expect(throws: MetricsError.invalidNumber(what: "2 (Dense) parameters", value: "-1")) {
      try ModelCost(layers: [bad])
    }
  }

  @Test func markdownTableListsLayersAndTotals() throws {
    let table = try ModelCost(layers: AnchorModels.lm, checkpointBytes: 14_240).markdownTable
    #expect(table.contains("| 2 (Conv1D) | 64 × 32 | 2,592 | 327,680 | 0 |"))
    #expect(table.contains("| **total** | | **3,526** | **512,384** | 0 |"))
    #expect(table.contains("float32 size: 14.1 kB; checkpoint file: 14.2 kB"))
  }

  @Test func formattingIsLocaleIndependent() {
    #expect(Format.grouped(168_020) == "168,020" && Format.grouped(-1_000) == "-1,000")
    #expect(Format.grouped(0) == "0" && Format.grouped(999) == "999")
    #expect(Format.si(21_761_280) == "21.8 M" && Format.si(512_384) == "512 k")
    #expect(Format.si(774) == "774" && Format.si(1_500) == "1.5 k")
    #expect(Format.si(1_000_000) == "1 M" && Format.si(0.25) == "0.25")
    #expect(Format.bytes(672_080) == "672 kB" && Format.bytes(900) == "900 B")
    #expect(Format.fixed(-0.0001, 2) == "0.00" && Format.fixed(0.915, 1) == "0.9")
  }
}
