// The teacher: a 1-D CNN (convolutions of 64, 64, 128 and 128 filters, a dense layer of 128),
// trained with cross-entropy; RB-KD and RB-KD-Att learn from it.
//
//   swift run -c release teacher --epochs 30 --seeds 3 --out runs/teacher
//   swift run -c release teacher --dataset uci-hapt --data-dir ../shared/datasets/uci-hapt
import CommandLineOptions
import Foundation
import HARDistill

let parser = OptionParser(
  program: "teacher",
  summary: "The teacher: a 1-D CNN trained with cross-entropy.",
  options: Option.data + Option.family + Option.training + Option.output)

CommandLineTool.main(parser) { options in
  // 1. The data, split by subject into training, validation and test windows; every part is
  //    standardized per channel with the mean and deviation of the training windows alone.
  let data = try PreparedData(options.loadSplit(), validation: options.validation)
  print(data.summary)
  let out = URL(fileURLWithPath: options.out, isDirectory: true)
  try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)

  for seed in options.seeds {
    // 2. The model, its weights drawn from the seed's initialization stream (Glorot-uniform
    //    kernels, zero biases). Its layers, shapes, parameters and FLOPs:
    var initialization = SplitMix64(seed: seed, stream: .initialization)
    var model = options.modelFamily.make(
      .teacher, channels: data.channelCount, classes: data.classNames.count,
      initialization: options.initialization, generator: &initialization)
    if seed == options.seed {
      print(try model.summary(inputShape: [1, data.windowLength, data.channelCount]))
    }

    // 3. Adam on cross-entropy over shuffled mini-batches; after each epoch the validation
    //    subjects are scored, and early stopping restores the weights of the best epoch.
    let trainer = Trainer(
      options: options.trainerOptions(seed: seed, label: "teacher seed \(seed)"))
    let history = try trainer.fit(&model, on: data.train, validation: data.validation)

    // 4. The test subjects' scores, then the model with what it needs to be used on new
    //    recordings (class names, window length, the input z-score) and the scores, as files.
    let report = try model.evaluate(on: data.test)
    print("teacher seed \(seed): test \(report.line), best epoch \(history.bestEpoch)")
    let stem = out.appendingPathComponent("teacher-seed\(seed)")
    try Checkpoint(model: model, card: data.modelCard(for: model))
      .write(to: stem.appendingPathExtension("safetensors"))
    try report.write(to: stem.appendingPathExtension("json"))
  }
}
