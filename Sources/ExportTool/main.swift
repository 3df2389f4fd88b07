// export: a trained model's checkpoint as a file another runtime runs, from the file alone.
//
//   swift run -c release export --checkpoint runs/lm-att/LM-Att-seed1.safetensors --out deploy
//   python3 -c "import onnxruntime as ort; s = ort.InferenceSession('deploy/LM-Att-seed1.onnx')"
import CommandLineOptions
import Export
import Foundation
import Layers

/// What to export, in which format, and where.
struct ExportOptions: ThreadBound {
  var checkpoint: String?
  var format = "onnx"
  var out = "."
  var name: String?
  var threads: Int? { 1 }
}

let parser = OptionParser(
  program: "export",
  summary: "Writes a trained model (a checkpoint with its model card) as an ONNX file that takes "
    + "raw sensor windows: the input z-score is the graph's first two nodes.",
  defaults: ExportOptions(),
  options: [
    Option("--checkpoint", value: "FILE", help: "the trained model (required)") { o, v in
      o.checkpoint = v
    },
    Option("--format", value: "NAME", help: "onnx (default onnx)") { o, v throws(UsageError) in
      guard v == "onnx" else { throw UsageError("--format expects onnx, got '\(v)'") }
      o.format = v
    },
    Option("--out", value: "DIR", help: "the folder to write into (default: this one)") {
      o, v throws(UsageError) in
      guard !v.isEmpty else { throw UsageError("--out expects a folder, got ''") }
      o.out = v
    },
    Option(
      "--name", value: "NAME", help: "the file's name without extension (default: the checkpoint's)"
    ) {
      o, v in o.name = v
    },
  ]
) { o, _ throws(UsageError) in
  guard o.checkpoint != nil else { throw UsageError("--checkpoint is required") }
}

CommandLineTool.main(parser) { options in
  let url = URL(fileURLWithPath: options.checkpoint!)
  let checkpoint = try Checkpoint.read(from: url)
  let graph = try InferenceGraph(checkpoint: checkpoint)
  guard graph.normalization != nil else {
    throw ExportError.unsupported(
      "\(url.path): the model card has no input normalization, so the exported model could not "
        + "take raw windows; write the checkpoint with one (PreparedData.modelCard(for:))")
  }
  let name = options.name ?? url.deletingPathExtension().lastPathComponent
  let folder = URL(fileURLWithPath: options.out, isDirectory: true)
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  let destination = folder.appendingPathComponent(name + ".onnx")
  try graph.onnxModel().write(to: destination)

  let (model, card) = try checkpoint.model(path: url.path)
  let window = card.windowLength ?? 128
  let summary = try model.summary(inputShape: [1, window, graph.inputChannels])
  let bytes = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size]) ?? 0
  print("wrote \(destination.path) (\(bytes) bytes)")
  print(
    "input [batch, \(window), \(graph.inputChannels)] raw samples; output [batch, "
      + "\(card.classNames?.count ?? graph.outputShape(batch: 1).last ?? 0)] logits"
      + (card.classNames.map { " (\($0.joined(separator: ", ")))" } ?? ""))
  print(
    "\(summary.parameters) parameters (\(4 * summary.parameters) weight bytes), "
      + "\(summary.flops / 2) multiply-accumulates per window")
}
