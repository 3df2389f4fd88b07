// RAB-KD: the CBAM student learns the CBAM teacher's softened predictions and attention maps.
//
//   swift run -c release rab-kd --temperature 4 --alpha 0.1 --seeds 3 --out runs/rab-kd
import Distillation
import ExperimentSupport
import Layers
import Tensor

let parser = OptionParser(
  program: "rab-kd",
  summary:
    "RAB-KD: the CBAM student learns the CBAM teacher's softened predictions and attention maps.")

CommandLineTool.main(parser) { options in
  // 1. The data: standardized training, validation (held-out subjects) and test windows.
  let experiment = try Experiment(options: options)
  print(experiment.data.summary)
  // 2. The frozen teacher: loaded from --teacher-checkpoint (or this output folder), or trained
  //    now; its logits and attention maps on the training set are computed once and cached.
  let teacher = try experiment.teacher(.teacherAtt)

  // The CBAM blocks of both models are named "cbam": their channel maps (teacher 128 channels,
  // averaged in groups of 4 onto the student's 32) and spatial maps are matched by MSE.
  let attention = [AttentionPair(student: "cbam", teacher: "cbam")]
  for seed in options.seeds where !experiment.isDone(.rabKD, seed: seed) {
    // 3. The student, initialized from the seed.
    var generator = SplitMix64(seed: seed)
    var student = options.modelFamily.make(
      .lmAtt, channels: experiment.data.channels, classes: experiment.data.classes,
      generator: &generator)
    // 4. The loss α·CE + (1−α)·KD + β·(L_CA + L_SA), with τ, α, β from the options.
    let setup = DistillationSetup(
      teacher: teacher.cache, weights: options.lossWeights, attention: attention)
    // 5. Adam, early stopping on validation macro-F1, best weights restored.
    let trainer = Trainer(options: experiment.trainerOptions(for: .rabKD, seed: seed))
    let history = try trainer.fit(
      &student, on: experiment.data.train, validation: experiment.data.validation,
      distillation: setup)
    // 6. Test accuracy and F1, a checkpoint, the predictions and the run record.
    try experiment.record(student, configuration: .rabKD, seed: seed, history: history)
  }
  // 7. The report of every run in the output folder (the teacher's included).
  try experiment.writeReport()
}
