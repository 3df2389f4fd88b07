// The study: the eight configurations on one data set, compared in one table.
//
//   swift run -c release study                       # synthetic data, 3 seeds
//   swift run -c release study --dataset uci-hapt --data-dir ../shared/datasets/uci-hapt
//   swift run -c release study --plan                # one command per run, for a cluster
import CommandLineOptions
import Study

CommandLineTool.main(StudyCommand.parser, StudyCommand.run)
