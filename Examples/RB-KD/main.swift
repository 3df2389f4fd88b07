// RB-KD: the lightweight student LM learns the teacher's softened predictions as well as the
// labels (response-based knowledge distillation).
//
//   swift run -c release rb-kd --temperature 4 --alpha 0.1 --seeds 3 --out runs/rb-kd
//   swift run -c release rb-kd --teacher-checkpoint runs/teacher/teacher-seed1.safetensors
import CommandLineOptions
import Foundation
import HARDistill

let parser = OptionParser(
  program: "rb-kd",
  summary: "RB-KD: the lightweight student learns the teacher's softened predictions.",
  options: Option.data + Option.family + Option.training + Option.distillation
    + Option.output)

CommandLineTool.main(parser) { options in
  // 1. The data, split by subject into training, validation and test windows; every part is
  //    standardized per channel with the mean and deviation of the training windows alone.
  let data = try PreparedData(options.loadSplit(), validation: options.validation)
  print(data.summary)
  let out = URL(fileURLWithPath: options.out, isDirectory: true)
  try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
  func model(_ kind: ReferenceModel, seed: UInt64) -> Sequential {
    var initialization = SplitMix64(seed: seed, stream: .initialization)
    return options.modelFamily.make(
      kind, channels: data.channelCount, classes: data.classNames.count,
      initialization: options.initialization, generator: &initialization)
  }

  // 2. The frozen teacher of this family, read from --teacher-checkpoint or trained on the same
  //    windows now. Its logits on the training windows are computed once and cached for every
  //    epoch of every student.
  var teacher = model(.teacher, seed: options.seed)
  if let path = options.teacherCheckpoint {
    try teacher.load(from: Checkpoint.read(from: URL(fileURLWithPath: path)))
  } else {
    let trainer = Trainer(options: options.trainerOptions(seed: options.seed, label: "teacher"))
    try trainer.fit(&teacher, on: data.train, validation: data.validation)
  }
  print("teacher: test \(try teacher.evaluate(on: data.test).line)")
  let cache = TeacherCache(teacher: teacher, inputs: data.train.inputs)

  for seed in options.seeds {
    // 3. The student, and the loss α·CE + (1 − α)·τ²·KL(teacher_τ ‖ student_τ):
    //    no attention maps are matched (response-based only).
    var student = model(.lm, seed: seed)
    let setup = DistillationSetup(
      teacher: cache, weights: options.lossWeights,
      attention: [])

    // 4. Adam over shuffled mini-batches; early stopping on the validation subjects' macro-F1
    //    restores the weights of the best epoch.
    let trainer = Trainer(options: options.trainerOptions(seed: seed, label: "RB-KD seed \(seed)"))
    let history = try trainer.fit(
      &student, on: data.train, validation: data.validation, distillation: setup)

    // 5. The test subjects' scores, then the student with what it needs to be used on new
    //    recordings (class names, window length, the input z-score) and the scores, as files.
    let report = try student.evaluate(on: data.test)
    print("RB-KD seed \(seed): test \(report.line), best epoch \(history.bestEpoch)")
    let stem = out.appendingPathComponent("RB-KD-seed\(seed)")
    try Checkpoint(model: student, card: data.modelCard(for: student))
      .write(to: stem.appendingPathExtension("safetensors"))
    try report.write(to: stem.appendingPathExtension("json"))
  }
}
