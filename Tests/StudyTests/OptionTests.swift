import CommandLineOptions
import Distillation
import Foundation
import Study
import Testing

@Suite("Command-line options")
struct OptionTests {
  let study = StudyCommand.parser
  let example = OptionParser(
    program: "rab-kd", summary: "RAB-KD.",
    options: Option.data + Option.training + Option.distillation + Option.output)

  @Test func configurationsAreTheStudys() {
    #expect(
      Configuration.all.map(\.name) == [
        "teacher", "teacher-att", "MM", "LM", "RB-KD", "LM-Att", "RB-KD-Att", "RAB-KD",
      ])
    #expect(Configuration.named("RAB-KD")?.teacher == .teacherAtt)
    #expect(Configuration.named("RAB-KD")?.transfersAttention == true)
    #expect(Configuration.named("RB-KD-Att")?.student == .lmAtt)
    #expect(Configuration.named("rab-kd") == nil)
  }

  @Test func defaultsAreTheStudys() throws {
    let options = try study.parse([])
    #expect(options.dataset == .synthetic)
    #expect(options.epochs == 20 && options.patience == 10 && options.batchSize == 64)
    #expect(options.learningRate == 1e-3)
    #expect(options.seeds == [1, 2, 3])
    #expect(options.lossWeights == LossWeights(alpha: 0.1, beta: 1, temperature: 4))
    #expect(options.configurations.map(\.name) == Configuration.all.map(\.name))
  }

  @Test func everyOptionIsRead() throws {
    let options = try study.parse([
      "--dataset", "uci-hapt", "--data-dir", "/data/hapt", "--family", "cnn", "--epochs", "7",
      "--patience=3", "--batch-size", "32", "--learning-rate", "0.01", "--seed", "5", "--seeds",
      "2",
      "--temperature", "2", "--alpha", "0.5", "--beta", "0", "--no-temperature-squared",
      "--teacher-checkpoint", "t.safetensors", "--clip-norm", "5", "--out", "o", "--threads", "1",
      "--resume",
      "--configurations", "LM,RAB-KD",
    ])
    #expect(options.dataset == .uciHAPT && options.dataDirectory == "/data/hapt")
    #expect(options.epochs == 7 && options.patience == 3 && options.batchSize == 32)
    #expect(options.learningRate == 0.01 && options.seeds == [5, 6])
    #expect(
      options.lossWeights
        == LossWeights(alpha: 0.5, beta: 0, temperature: 2, scaleByTemperatureSquared: false))
    #expect(
      options.teacherCheckpoint == "t.safetensors" && options.out == "o" && options.threads == 1)
    #expect(options.resume && options.clipNorm == 5)
    #expect(options.configurations.map(\.name) == ["LM", "RAB-KD"])
  }

  @Test func initializationAndWarmUpReachTheRunsAndTheirCommands() throws {
    let defaults = try study.parse([])
    #expect(defaults.initialization == .glorot && defaults.kdWarmup == 0)
    #expect(defaults.run.trainerOptions(seed: 1, label: "").distillationWarmupEpochs == 0)
    let plain = defaults.arguments(configuration: .named("RB-KD")!, seed: 1)
    #expect(!plain.contains("--initialization") && !plain.contains("--kd-warmup"))
    let options = try study.parse(["--initialization", "pytorch", "--kd-warmup", "3"])
    #expect(options.initialization == .pytorch && options.kdWarmup == 3)
    #expect(options.run.trainerOptions(seed: 1, label: "").distillationWarmupEpochs == 3)
    let arguments = options.arguments(configuration: .named("RB-KD")!, seed: 1)
    #expect(arguments.firstIndex(of: "--initialization").map { arguments[$0 + 1] } == "pytorch")
    #expect(arguments.firstIndex(of: "--kd-warmup").map { arguments[$0 + 1] } == "3")
    // The command a plan prints parses back to the same settings.
    let replayed = try study.parse(arguments)
    #expect(replayed.initialization == .pytorch && replayed.kdWarmup == 3)
    let examples = try example.parse(["--kd-warmup", "2"])
    #expect(examples.kdWarmup == 2)
  }

  @Test func smokeShrinksUnlessTold() throws {
    let smoke = try study.parse(["--smoke"])
    #expect(smoke.epochs == 2 && smoke.seedCount == 2)
    let explicit = try study.parse(["--smoke", "--epochs", "4", "--seeds", "1"])
    #expect(explicit.epochs == 4 && explicit.seedCount == 1)
  }

  @Test(arguments: [
    (["--epochs", "-1"], "--epochs expects an integer from 1 to 100000, got '-1'"),
    (["--epochs", "ten"], "--epochs expects an integer from 1 to 100000, got 'ten'"),
    (["--epochs"], "--epochs expects a value (N)"),
    (["--alpha", "1.5"], "--alpha expects a number in [0, 1], got '1.5'"),
    (["--temperature", "0"], "--temperature expects a number > 0, got '0'"),
    (["--learning-rate", "nan"], "--learning-rate expects a number > 0, got 'nan'"),
    (["--bogus"], "study does not take the option '--bogus'"),
    (
      ["--dataset", "mnist"],
      "--dataset expects one of uci-har, uci-hapt, wisdm, wisdm-watch, opportunity, csv, synthetic, got 'mnist'"
    ),
    (["--dataset", "uci-hapt"], "--dataset uci-hapt needs --data-dir"),
    (["--configurations", "LM,XL"], "--configurations: unknown configuration 'XL'"),
    (
      ["--plan", "--aggregate", "x"],
      "--plan, --emit-slurm, --aggregate and --grid exclude each other"
    ),
    (
      ["--grid-alphas", "0.1,2"], "--grid-alphas expects comma-separated numbers in [0, 1], got '2'"
    ),
    (["--family", "rnn"], "--family expects cnn or deepconvlstm, got 'rnn'"),
    (
      ["--channel-alignment", "mean"], "--channel-alignment expects average or project, got 'mean'"
    ),
    (
      ["--attention-position", "5"], "--attention-position expects an integer from 1 to 4, got '5'"
    ),
    (["--spatial-kernel", "4"], "--spatial-kernel expects 3, 5 or 7, got '4'"),
    (["--initialization", "kaiming"], "--initialization expects glorot or pytorch, got 'kaiming'"),
    (["--kd-warmup", "-1"], "--kd-warmup expects an integer from 0 to 100000, got '-1'"),
    (["--resume=yes"], "--resume takes no value"),
    (["--clip-norm", "0"], "--clip-norm expects a number > 0, got '0'"),
    (["--threads", "0"], "--threads expects an integer from 1 to 1024, got '0'"),
    (["--seeds", "2.5"], "--seeds expects an integer from 1 to 10000, got '2.5'"),
    (["--patience", "0"], "--patience expects an integer from 1 to 100000, got '0'"),
    (["--batch-size", "-64"], "--batch-size expects an integer from 1 to 1000000, got '-64'"),
    (["--seed", "-1"], "--seed expects an integer from 0 to 2147483647, got '-1'"),
    (["--teachers", "0"], "--teachers expects an integer from 1 to 10000, got '0'"),
    (["--folds", "1"], "--folds expects an integer from 2 to 10000, got '1'"),
    (["--folds", "4", "--loso"], "--folds and --loso exclude each other"),
    (["--fold", "2"], "--fold needs --folds or --loso"),
    (["--folds", "4", "--fold", "5"], "--fold 5: there are only 4 folds"),
    (
      ["--loso", "--test-subjects", "1"],
      "--folds and --loso choose the test and validation subjects: they exclude --test-subjects "
        + "and --validation-subjects"
    ),
    (
      ["--teachers", "2", "--teacher-checkpoint", "t.safetensors"],
      "--teachers N > 1 trains N teachers: it excludes --teacher-checkpoint"
    ),
    (
      ["--epochs", "99999999999999999999"],
      "--epochs expects an integer from 1 to 100000, got '99999999999999999999'"
    ),
    (["--epochs="], "--epochs expects an integer from 1 to 100000, got ''"),
    (["--epochs", "--smoke"], "--epochs expects a value (N)"),
    (["--alpha", "-0.1"], "--alpha expects a number in [0, 1], got '-0.1'"),
    (["--temperature", "-4"], "--temperature expects a number > 0, got '-4'"),
    (["--temperature", "inf"], "--temperature expects a number > 0, got 'inf'"),
    (["--beta", "-1"], "--beta expects a number ≥ 0, got '-1'"),
    (["--family", "lstm"], "--family expects cnn or deepconvlstm, got 'lstm'"),
    // Counts that overflowed or allocated without bound.
    (
      ["--batch-size", "9223372036854775807"],
      "--batch-size expects an integer from 1 to 1000000, got '9223372036854775807'"
    ),
    (
      ["--seeds", "1000000000000"],
      "--seeds expects an integer from 1 to 10000, got '1000000000000'"
    ),
    (["--seeds", "100000000"], "--seeds expects an integer from 1 to 10000, got '100000000'"),
    (["--out", ""], "--out expects a folder, got ''"),
    (["--alpha", "0.1", "--alpha", "0.2"], "--alpha is given twice"),
  ])
  func badInputIsOneLine(arguments: [String], message: String) {
    #expect(throws: UsageError(message, program: "study")) { try study.parse(arguments) }
  }

  @Test func examplesRejectStudyOnlyOptions() {
    let message = "rab-kd does not take the option '--plan'"
    #expect(throws: UsageError(message, program: "rab-kd")) { try example.parse(["--plan"]) }
    #expect(
      UsageError(message, program: "rab-kd").description
        == "rab-kd: error: \(message) (see 'rab-kd --help')")
    #expect(throws: UsageError("--seeds is given twice", program: "rab-kd")) {
      try example.parse(["--seeds", "2", "--seeds", "3"])
    }
  }

  /// The help text, as a snapshot of its shape: every option with its value and default.
  @Test func helpListsEveryOption() {
    #expect(throws: UsageError(nil, program: "study")) { try study.parse(["--help"]) }
    let usage = study.usage
    #expect(usage.hasPrefix("usage: study [options]\n"))
    for flag in [
      "--dataset ID", "--data-dir PATH", "--shards N", "--test-subjects LIST",
      "--validation-subjects LIST", "--csv-subject COLUMN", "--window N", "--family NAME",
      "--epochs N", "--patience N",
      "--batch-size N", "--learning-rate X", "--seed N", "--seeds N", "--temperature T",
      "--alpha A", "--beta B", "--no-temperature-squared", "--clip-norm X", "--skip-malformed",
      "--channel-alignment WAY", "--teacher-checkpoint FILE",
      "--out DIR", "--threads N", "--resume", "--smoke", "--configurations LIST", "--plan",
      "--emit-slurm FILE", "--aggregate DIR", "--grid", "--grid-temperatures LIST",
      "--grid-alphas LIST", "--teachers N", "--folds K", "--loso", "--fold I",
      "--attention-position P", "--reduction R",
      "--spatial-kernel K", "--initialization WAY", "--kd-warmup E",
      "-h, --help",
    ] {
      #expect(usage.contains("  " + flag + " "), "missing \(flag)")
    }
    #expect(usage.contains("(default 20; 2 with --smoke)"))
    #expect(!example.usage.contains("--plan"))
  }

  @Test func badOptionExitsWith64() async {
    let result = await #expect(processExitsWith: .exitCode(64), observing: [\.standardErrorContent])
    {
      CommandLineTool.main(StudyCommand.parser, arguments: ["--alpha", "2"]) { _ in }
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(
      text == "study: error: --alpha expects a number in [0, 1], got '2' (see 'study --help')\n")
  }

  @Test func missingDataFolderExitsWith64() async {
    let result = await #expect(processExitsWith: .exitCode(64), observing: [\.standardErrorContent])
    {
      CommandLineTool.main(
        StudyCommand.parser,
        arguments: ["--dataset", "uci-hapt", "--data-dir", "/nonexistent/hapt"]
      ) { options in _ = try Experiment(options: options) }
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(text.hasPrefix("study: error: /nonexistent/hapt"))
  }

  @Test func emptyDataSetExitsWith64() async {
    let result = await #expect(processExitsWith: .exitCode(64), observing: [\.standardErrorContent])
    {
      // An existing but empty WISDM raw file, made in the child process that runs the tool.
      let empty = NSTemporaryDirectory() + "hardistill-empty-wisdm-\(getpid()).txt"
      _ = FileManager.default.createFile(atPath: empty, contents: Data())
      CommandLineTool.main(
        StudyCommand.parser, arguments: ["--dataset", "wisdm", "--data-dir", empty]
      ) {
        options in
        defer { try? FileManager.default.removeItem(atPath: empty) }
        _ = try Experiment(options: options)
      }
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(text.hasPrefix("study: error: /"))
    #expect(text.hasSuffix(".txt: expected at least one sample, found none (see 'study --help')\n"))
    #expect(text.filter { $0 == "\n" }.count == 1)
  }

  @Test func helpExitsWithZero() async {
    await #expect(processExitsWith: .exitCode(0)) {
      CommandLineTool.main(StudyCommand.parser, arguments: ["--help"]) { _ in }
    }
  }
}
