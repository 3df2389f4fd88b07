// export: a trained model's checkpoint as a file another runtime runs, from the file alone.
//
//   swift run -c release export --checkpoint runs/lm-att/LM-Att-seed1.safetensors --out deploy
//   python3 -c "import onnxruntime as ort; s = ort.InferenceSession('deploy/LM-Att-seed1.onnx')"
//   swift run -c release export --checkpoint runs/lm-att/LM-Att-seed1.safetensors --format c
//   swift run -c release export --checkpoint runs/lm-att/LM-Att-seed1.safetensors \
//     --format c-int8 --dataset uci-hapt --data-dir ../shared/datasets/uci-hapt
//   swift run -c release export --checkpoint runs/lm/LM-seed1.safetensors --format c-int8 \
//     --calibration 99.99 --qat-epochs 3 --dataset uci-hapt --data-dir ../shared/datasets/uci-hapt
import CommandLineOptions
import Datasets
import Distillation
import Export
import Foundation
import Layers
import Metrics
import Tensor

/// What to export, in which format, and where; for `c-int8`, the data to calibrate and test on.
struct ExportOptions: ThreadBound {
  var checkpoint: String?
  var format = "onnx"
  var out = "."
  var name: String?
  var calibration = CalibrationMethod.minMax
  var calibrationWindows = 1000
  var qatEpochs = 0
  var qatLearningRate: Float = 1e-4
  var qatTarget = QuantizationAwareTraining.Target.labels
  var qatControl = false
  var run = RunOptions()
  var threads: Int? { 1 }
}

let formats = ["onnx", "c", "c-int8"]
let dataFlags = Set(Option<RunOptions>.data.map(\.flag))
let qatFlags: Set = ["--qat-epochs", "--qat-learning-rate", "--qat-target", "--qat-control"]

let parser = OptionParser(
  program: "export",
  summary: "Writes a trained model (a checkpoint with its model card) as a file that takes raw "
    + "sensor windows: an ONNX graph (onnx), or dependency-free C99 source, float32 (c) or "
    + "post-training int8 calibrated on the training windows of the data options (c-int8), "
    + "optionally after quantization-aware fine-tuning on them (--qat-epochs).",
  defaults: ExportOptions(),
  options: [
    Option("--checkpoint", value: "FILE", help: "the trained model (required)") { o, v in
      o.checkpoint = v
    },
    Option("--format", value: "NAME", help: "onnx, c or c-int8 (default onnx)") {
      o, v throws(UsageError) in
      guard formats.contains(v) else {
        throw UsageError("--format expects one of onnx, c, c-int8, got '\(v)'")
      }
      o.format = v
    },
    Option("--out", value: "DIR", help: "the folder to write into (default: this one)") {
      o, v throws(UsageError) in
      guard !v.isEmpty else { throw UsageError("--out expects a folder, got ''") }
      o.out = v
    },
    Option(
      "--name", value: "NAME",
      help: "the files' name without extension (default: the checkpoint's; a C identifier for c)"
    ) {
      o, v in o.name = v
    },
    Option(
      "--calibration", value: "METHOD",
      help: "c-int8: min-max, mse, or a percentile of magnitudes, e.g. 99.99 (default min-max)"
    ) { o, v throws(UsageError) in
      if v == "min-max" {
        o.calibration = .minMax
      } else if v == "mse" {
        o.calibration = .mse
      } else if let p = Double(v), p > 50, p <= 100 {
        o.calibration = .percentile(p)
      } else {
        throw UsageError(
          "--calibration expects min-max, mse or a percentile in (50, 100], got '\(v)'")
      }
    },
    Option(
      "--calibration-windows", value: "N",
      help: "c-int8: training windows to calibrate on, evenly spread (default 1000)"
    ) { o, v throws(UsageError) in
      o.calibrationWindows = try OptionValue.integer("--calibration-windows", v, in: 1...1_000_000)
    },
    Option(
      "--qat-epochs", value: "N",
      help: "c-int8: epochs of quantization-aware fine-tuning on the training windows before "
        + "quantizing (default 0: post-training only)"
    ) { o, v throws(UsageError) in
      o.qatEpochs = try OptionValue.integer("--qat-epochs", v, in: 0...1000)
    },
    Option(
      "--qat-learning-rate", value: "X",
      help: "c-int8: Adam's learning rate for --qat-epochs (default 0.0001)"
    ) { o, v throws(UsageError) in
      o.qatLearningRate = Float(
        try OptionValue.number("--qat-learning-rate", v, "a number > 0") { $0 > 0 })
    },
    Option(
      "--qat-target", value: "NAME",
      help: "c-int8: what --qat-epochs fits: labels, or float (the float model's own "
        + "predictions; float:T at temperature T, default 1) (default labels)"
    ) { o, v throws(UsageError) in
      if v == "labels" {
        o.qatTarget = .labels
      } else if v == "float" {
        o.qatTarget = .floatModel(temperature: 1)
      } else if v.hasPrefix("float:"), let t = Float(v.dropFirst(6)), t > 0, t.isFinite {
        o.qatTarget = .floatModel(temperature: t)
      } else {
        throw UsageError("--qat-target expects labels, float or float:T with T > 0, got '\(v)'")
      }
    },
    Option(
      "--qat-control",
      help: "c-int8: fine-tune as --qat-epochs does but without fake quantization (a control: "
        + "what the extra epochs do without the rounding)"
    ) { o, _ in o.qatControl = true },
  ] + Option<RunOptions>.data.map { $0.embedded(in: \ExportOptions.run) }
) { o, given throws(UsageError) in
  guard o.checkpoint != nil else { throw UsageError("--checkpoint is required") }
  let data = given.intersection(dataFlags).sorted()
  if o.format == "c-int8" {
    try o.run.finish(given: given)
  } else if let flag = data.first {
    throw UsageError("\(flag) is for --format c-int8 (its calibration and test data)")
  } else if let flag = given.intersection(qatFlags).sorted().first {
    throw UsageError("\(flag) is for --format c-int8")
  }
  if let flag = given.intersection(qatFlags.subtracting(["--qat-epochs"])).sorted().first,
    o.qatEpochs == 0
  {
    throw UsageError("\(flag) needs --qat-epochs N with N ≥ 1")
  }
}

/// Accuracy and macro-F1 as `accuracy 91.20 %, macro-F1 90.85 %`.
func scores(_ labels: [Int], _ predictions: [Int], classes: Int) throws -> String {
  let report = try ClassificationReport(
    labels: labels, predictions: predictions, classes: Array(0..<classes))
  return String(
    format: "accuracy %.2f %%, macro-F1 %.2f %%", 100 * report.accuracy, 100 * report.macroF1)
}

/// The arg-max of each row of `[n, k]` logits.
func argMax(_ logits: Tensor) -> [Int] {
  let k = logits.shape[1]
  let scalars = logits.scalars
  return (0..<logits.shape[0]).map { row in
    let slice = scalars[(row * k)..<((row + 1) * k)]
    return slice.firstIndex(of: slice.max()!)! - row * k
  }
}

CommandLineTool.main(parser) { options in
  let url = URL(fileURLWithPath: options.checkpoint!)
  let checkpoint = try Checkpoint.read(from: url)
  let graph = try InferenceGraph(checkpoint: checkpoint)
  guard let normalization = graph.normalization else {
    throw ExportError.unsupported(
      "\(url.path): the model card has no input normalization, so the exported model could not "
        + "take raw windows; write the checkpoint with one (PreparedData.modelCard(for:))")
  }
  let stem = options.name ?? url.deletingPathExtension().lastPathComponent
  let folder = URL(fileURLWithPath: options.out, isDirectory: true)
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  let (model, card) = try checkpoint.model(path: url.path)
  let window = card.windowLength ?? 128
  let classes = card.classNames?.count ?? graph.outputShape(batch: 1).last ?? 0
  let classList = card.classNames.map { " (\($0.joined(separator: ", ")))" } ?? ""

  guard options.format != "onnx" else {
    let destination = folder.appendingPathComponent(stem + ".onnx")
    try graph.onnxModel().write(to: destination)
    let summary = try model.summary(inputShape: [1, window, graph.inputChannels])
    let bytes = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size]) ?? 0
    print("wrote \(destination.path) (\(bytes) bytes)")
    print(
      "input [batch, \(window), \(graph.inputChannels)] raw samples; output [batch, \(classes)] "
        + "logits\(classList)")
    print(
      "\(summary.parameters) parameters (\(4 * summary.parameters) weight bytes), "
        + "\(summary.flops / 2) multiply-accumulates per window")
    return
  }

  let name = options.name ?? CSource.identifier(from: stem)
  let source: CSource
  if options.format == "c" {
    source = try graph.cSource(name: name)
  } else {
    let split = try options.run.loadSplit()
    let data = try PreparedData(split, validation: options.run.validation)
    guard split.train.channelCount == graph.inputChannels, split.train.length == window else {
      throw ExportError.unsupported(
        "the data's windows are [\(split.train.length), \(split.train.channelCount)], the model's "
          + "[\(window), \(graph.inputChannels)]: calibrate on the data it was trained on")
    }
    // Raw windows (the graph applies the card's z-score): PreparedData's training subjects
    // calibrate, the test subjects evaluate.
    let trainSubjects = Set(data.subjects.train)
    let training = split.train.selecting(
      split.train.subjects.indices.filter { trainSubjects.contains(split.train.subjects[$0]) })
    let count = min(options.calibrationWindows, training.count)
    let calibration = try TrainingData(
      training.selecting((0..<count).map { $0 * training.count / count })
    ).inputs
    let quantized = try QuantizedModel(
      graph: graph, calibrationWindows: calibration, method: options.calibration)
    // Quantization-aware fine-tuning: on every training window, then the same post-training
    // quantization (same calibration windows and method) of the fine-tuned float weights.
    var tuned: QuantizedModel?
    if options.qatEpochs > 0 {
      let all = try TrainingData(training)
      let settings = QuantizationAwareTraining(
        epochs: options.qatEpochs, learningRate: options.qatLearningRate,
        calibration: options.calibration, target: options.qatTarget,
        fakeQuantization: !options.qatControl)
      let tunedGraph = try settings.fineTune(
        graph, windows: all.inputs, labels: all.labels, calibrationWindows: calibration
      ) { epoch, loss in
        print(
          String(
            format: "quantization-aware epoch %d of %d: training loss %.4f", epoch,
            options.qatEpochs, loss))
      }
      tuned = try QuantizedModel(
        graph: tunedGraph, calibrationWindows: calibration, method: options.calibration)
    }
    let deployed = tuned ?? quantized
    source = try deployed.cSource(name: name)
    let test = try TrainingData(split.test)
    var floatPredictions: [Int] = []
    var int8Predictions: [Int] = []
    var qatPredictions: [Int] = []
    for start in stride(from: 0, to: test.count, by: 256) {
      let chunk = test.inputs.sliced(alongAxis: 0, range: start..<min(test.count, start + 256))
      floatPredictions += argMax(model(normalization.apply(to: chunk)))
      int8Predictions += quantized.predictions(for: chunk)
      if let tuned { qatPredictions += tuned.predictions(for: chunk) }
    }
    print(
      "calibrated on \(count) raw training windows (\(options.calibration)); test: "
        + "\(test.count) windows from \(data.subjects.test.count) subjects")
    print("  float32: \(try scores(test.labels, floatPredictions, classes: classes))")
    print("  int8:    \(try scores(test.labels, int8Predictions, classes: classes))")
    if tuned != nil {
      print(
        "  int8 QAT: \(try scores(test.labels, qatPredictions, classes: classes)) "
          + "(\(options.qatEpochs) epochs of quantization-aware fine-tuning, learning rate "
          + "\(options.qatLearningRate), target \(options.qatTarget)"
          + (options.qatControl ? ", without fake quantization (control)" : "")
          + "; the C file is this model)")
    }
    for (label, predictions) in [("int8", int8Predictions), ("int8 QAT", qatPredictions)]
    where !predictions.isEmpty {
      let agree = zip(floatPredictions, predictions).filter { $0 == $1 }.count
      let percent = String(format: "%.2f", 100 * Double(agree) / Double(max(1, test.count)))
      print("  \(label) and float32 agree on \(percent) % of the test windows")
    }
  }
  let (header, file) = try source.write(to: folder)
  print("wrote \(file.path) and \(header.path)")
  print(
    "input [\(window), \(graph.inputChannels)] raw samples; \(classes) scores\(classList); "
      + "int \(name)_predict(const float window[\(window)][\(graph.inputChannels)], "
      + "float scores[\(classes)])")
  print(
    "\(source.weightBytes) weight bytes, \(source.arenaBytes) arena bytes, "
      + "\(source.multiplyAccumulates) multiply-accumulates per window")
}
