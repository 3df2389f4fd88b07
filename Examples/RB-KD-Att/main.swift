// RB-KD-Att: the CBAM student learns the teacher's softened predictions.
//
//   swift run -c release rb-kd-att --temperature 4 --alpha 0.1 --seeds 3 --out runs/rb-kd-att
import Distillation
import ExperimentSupport
import Layers
import Tensor

let parser = OptionParser(
  program: "rb-kd-att",
  summary: "RB-KD-Att: the CBAM student learns the teacher's softened predictions.")

CommandLineTool.main(parser) { options in
  // 1. The data: standardized training, validation (held-out subjects) and test windows.
  let experiment = try Experiment(options: options)
  print(experiment.data.summary)
  // 2. The frozen teacher: loaded from --teacher-checkpoint (or this output folder), or trained
  //    now; its logits and attention maps on the training set are computed once and cached.
  let teacher = try experiment.teacher(.teacher)

  // Response-based only: no attention maps are matched.
  let attention: [AttentionPair] = []
  for seed in options.seeds where !experiment.isDone(.rbKDAtt, seed: seed) {
    // 3. The student, initialized from the seed.
    var generator = SplitMix64(seed: seed)
    var student = options.modelFamily.make(
      .lmAtt, channels: experiment.data.channels, classes: experiment.data.classes,
      generator: &generator)
    // 4. The loss α·CE + (1−α)·KD, with τ, α, β from the options.
    let setup = DistillationSetup(
      teacher: teacher.cache, weights: options.lossWeights, attention: attention)
    // 5. Adam, early stopping on validation macro-F1, best weights restored.
    let trainer = Trainer(options: experiment.trainerOptions(for: .rbKDAtt, seed: seed))
    let history = try trainer.fit(
      &student, on: experiment.data.train, validation: experiment.data.validation,
      distillation: setup)
    // 6. Test accuracy and F1, a checkpoint, the predictions and the run record.
    try experiment.record(student, configuration: .rbKDAtt, seed: seed, history: history)
  }
  // 7. The report of every run in the output folder (the teacher's included).
  try experiment.writeReport()
}
