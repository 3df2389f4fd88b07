// MM, the moderate model (convolutions of 32 and 64 filters), trained with cross-entropy.
//
//   swift run -c release mm --epochs 30 --seeds 3 --out runs/mm
//   swift run -c release mm --dataset uci-hapt --data-dir ../shared/datasets/uci-hapt
import CommandLineOptions
import Foundation
import HARDistill

let parser = OptionParser(
  program: "mm",
  summary: "MM, the moderate model, trained with cross-entropy.",
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
      .mm, channels: data.channelCount, classes: data.classNames.count,
      initialization: options.initialization, generator: &initialization)
    if seed == options.seed {
      print(try model.summary(inputShape: [1, data.windowLength, data.channelCount]))
    }

    // 3. Adam on cross-entropy over shuffled mini-batches; after each epoch the validation
    //    subjects are scored, and early stopping restores the weights of the best epoch.
    let trainer = Trainer(options: options.trainerOptions(seed: seed, label: "MM seed \(seed)"))
    let history = try trainer.fit(&model, on: data.train, validation: data.validation)

    // 4. The test subjects' scores, then the model with what it needs to be used on new
    //    recordings (class names, window length, the input z-score) and the scores, as files.
    let report = try model.evaluate(on: data.test)
    print("MM seed \(seed): test \(report.line), best epoch \(history.bestEpoch)")
    let stem = out.appendingPathComponent("MM-seed\(seed)")
    try Checkpoint(model: model, card: data.modelCard(for: model))
      .write(to: stem.appendingPathExtension("safetensors"))
    try report.write(to: stem.appendingPathExtension("json"))
  }
}
