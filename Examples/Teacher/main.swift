// The teacher: a 1-D CNN (9→64→64, pool, 64→128→128, dense 128) trained with cross-entropy.
//
//   swift run -c release teacher --epochs 30 --seeds 3 --out runs/teacher
import Distillation
import ExperimentSupport
import Layers
import Tensor

let parser = OptionParser(
  program: "teacher",
  summary:
    "The teacher: a 1-D CNN (9→64→64, pool, 64→128→128, dense 128) trained with cross-entropy.")

CommandLineTool.main(parser) { options in
  // 1. The data: standardized training, validation (held-out subjects) and test windows.
  let experiment = try Experiment(options: options)
  print(experiment.data.summary)
  for seed in options.seeds where !experiment.isDone(.teacher, seed: seed) {
    // 2. The model, initialized from the seed (Glorot-uniform kernels, zero biases).
    var generator = SplitMix64(seed: seed)
    var model = options.modelFamily.make(
      .teacher, channels: experiment.data.channels, classes: experiment.data.classes,
      generator: &generator)
    // 3. Adam on cross-entropy, early stopping on validation macro-F1, best weights restored.
    let trainer = Trainer(options: experiment.trainerOptions(for: .teacher, seed: seed))
    let history = try trainer.fit(
      &model, on: experiment.data.train, validation: experiment.data.validation)
    // 4. Test accuracy and F1, a checkpoint, the predictions and the run record.
    try experiment.record(model, configuration: .teacher, seed: seed, history: history)
  }
  // 5. The report of every run in the output folder: results.json, report.md, figures.
  try experiment.writeReport()
}
