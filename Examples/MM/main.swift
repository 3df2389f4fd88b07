// MM, the moderate model (9→32, pool, 32→64), trained with cross-entropy.
//
//   swift run -c release mm --epochs 30 --seeds 3 --out runs/mm
import Distillation
import ExperimentSupport
import Layers
import Tensor

let parser = OptionParser(
  program: "mm", summary: "MM, the moderate model (9→32, pool, 32→64), trained with cross-entropy.")

CommandLineTool.main(parser) { options in
  // 1. The data: standardized training, validation (held-out subjects) and test windows.
  let experiment = try Experiment(options: options)
  print(experiment.data.summary)
  for seed in options.seeds where !experiment.isDone(.mm, seed: seed) {
    // 2. The model, initialized from the seed (Glorot-uniform kernels, zero biases).
    var generator = SplitMix64(seed: seed)
    var model = options.modelFamily.make(
      .mm, channels: experiment.data.channels, classes: experiment.data.classes,
      generator: &generator)
    // 3. Adam on cross-entropy, early stopping on validation macro-F1, best weights restored.
    let trainer = Trainer(options: experiment.trainerOptions(for: .mm, seed: seed))
    let history = try trainer.fit(
      &model, on: experiment.data.train, validation: experiment.data.validation)
    // 4. Test accuracy and F1, a checkpoint, the predictions and the run record.
    try experiment.record(model, configuration: .mm, seed: seed, history: history)
  }
  // 5. The report of every run in the output folder: results.json, report.md, figures.
  try experiment.writeReport()
}
