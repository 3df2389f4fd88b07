// RAB-KD: the CBAM student learns the CBAM teacher's softened predictions and its channel and
// spatial attention maps as well as the labels.
//
//   swift run -c release rab-kd --temperature 4 --alpha 0.1 --seeds 3 --out runs/rab-kd
//   swift run -c release rab-kd --teacher-checkpoint runs/teacher-att/teacher-att-seed1.safetensors
import CommandLineOptions
import Foundation
import HARDistill

let parser = OptionParser(
  program: "rab-kd",
  summary:
    "RAB-KD: the CBAM student learns the CBAM teacher's softened predictions and attention maps.",
  options: Option.data + Option.family + Option.training + Option.distillation
    + Option.attentionTransfer + Option.output)

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

  // 2. The frozen CBAM teacher of this family, read from --teacher-checkpoint or trained on the
  //    same windows now. Its logits and its CBAM block's maps on the training windows are
  //    computed once and cached for every epoch of every student.
  var teacher = model(.teacherAtt, seed: options.seed)
  if let path = options.teacherCheckpoint {
    try teacher.load(from: Checkpoint.read(from: URL(fileURLWithPath: path)))
  } else {
    let trainer = Trainer(
      options: options.trainerOptions(seed: options.seed, label: "teacher-att"))
    try trainer.fit(&teacher, on: data.train, validation: data.validation)
  }
  print("teacher-att: test \(try teacher.evaluate(on: data.test).line)")
  let cache = TeacherCache(teacher: teacher, inputs: data.train.inputs)

  for seed in options.seeds {
    // 3. The student, and the loss α·CE + (1 − α)·τ²·KL + β·(L_CA + L_SA): both models name
    //    their CBAM block "cbam"; the teacher's channel map (128 channels) reaches the student's
    //    32 averaged in groups of 4, or through a trained linear map with --channel-alignment
    //    project; the spatial maps are matched as they are.
    var student = model(.lmAtt, seed: seed)
    let setup = DistillationSetup(
      teacher: cache, weights: options.lossWeights,
      attention: [AttentionPair(student: "cbam", teacher: "cbam")],
      channelAlignment: options.channelAlignment)

    // 4. Adam over shuffled mini-batches; early stopping on the validation subjects' macro-F1
    //    restores the weights of the best epoch.
    let trainer = Trainer(options: options.trainerOptions(seed: seed, label: "RAB-KD seed \(seed)"))
    let history = try trainer.fit(
      &student, on: data.train, validation: data.validation, distillation: setup)

    // 5. The test subjects' scores, then the student with what it needs to be used on new
    //    recordings (class names, window length, the input z-score) and the scores, as files.
    let report = try student.evaluate(on: data.test)
    print("RAB-KD seed \(seed): test \(report.line), best epoch \(history.bestEpoch)")
    let stem = out.appendingPathComponent("RAB-KD-seed\(seed)")
    try Checkpoint(model: student, card: data.modelCard(for: student))
      .write(to: stem.appendingPathExtension("safetensors"))
    try report.write(to: stem.appendingPathExtension("json"))
  }
}
