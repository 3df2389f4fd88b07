// swift-tools-version:6.0
// HARDistill: train tiny human-activity-recognition models by distilling a teacher into a
// CBAM-attention student. Toolchain only: no package dependencies, no unsafe flags, so another
// package can depend on any library product here by URL and version.
import PackageDescription

/// The library: what someone building their own model needs. `HARDistill` re-exports all five.
let libraries = ["Tensor", "Layers", "Distillation", "Datasets", "Metrics"]

/// One example per configuration of the study, each using the library products only:
/// (product, target, folder).
let examples = [
  ("teacher", "Teacher", "Teacher"), ("teacher-att", "TeacherAtt", "Teacher-Att"),
  ("mm", "MM", "MM"), ("lm", "LM", "LM"), ("rb-kd", "RBKD", "RB-KD"),
  ("lm-att", "LMAtt", "LM-Att"), ("rb-kd-att", "RBKDAtt", "RB-KD-Att"),
  ("rab-kd", "RABKD", "RAB-KD"),
]

let package = Package(
  name: "HARDistill",
  products: [
    .library(name: "HARDistill", targets: ["HARDistill"])
  ] + libraries.map { .library(name: $0, targets: [$0]) }
    + examples.map { .executable(name: $0.0, targets: [$0.1]) } + [
      .executable(name: "study", targets: ["StudyTool"]),
      .executable(name: "har-bench", targets: ["HarBench"]),
      .executable(name: "stream", targets: ["Stream"]),
    ],
  targets: [
    // The library.
    .target(name: "Tensor", dependencies: ["CKernels"]),
    // The hot loops in C: per-function AVX2/AVX-512 variants chosen at run time, no unsafe flags.
    .target(name: "CKernels"),
    .target(name: "Layers", dependencies: ["Tensor"]),
    .target(name: "Distillation", dependencies: ["Layers", "Datasets", "Metrics"]),
    .target(name: "Datasets"),
    .target(name: "Metrics"),
    .target(name: "HARDistill", dependencies: libraries.map { .target(name: $0) }),

    // The command-line options and exit statuses the executables share; not a product.
    .target(name: "CommandLineOptions", dependencies: ["Datasets", "Layers", "Distillation"]),

    // The study of the paper: its eight configurations, run records, report, figures and claims,
    // the cluster plan and the aggregation. Not part of `HARDistill`.
    .target(
      name: "Study",
      dependencies: [
        "Tensor", "Layers", "Distillation", "Datasets", "Metrics", "CommandLineOptions",
      ]),
    .executableTarget(name: "StudyTool", dependencies: ["Study", "CommandLineOptions"]),

    // Shared test helpers (gradient checks, closeness assertions); not a product.
    .target(name: "TestSupport", dependencies: ["Tensor"]),

    .executableTarget(
      name: "HarBench", dependencies: ["Tensor", "Layers", "Datasets"], path: "Benchmarks/HarBench"),
    .executableTarget(
      name: "Stream",
      dependencies: [
        "CommandLineOptions", "Layers", "Datasets", "Metrics", "Tensor", "Distillation",
      ],
      path: "Examples/Stream"),

    // Tests import their module and TestSupport, never `@testable`, so `swift test -c release` works.
    .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
    .testTarget(name: "LayersTests", dependencies: ["Layers", "TestSupport"]),
    .testTarget(
      name: "DistillationTests", dependencies: ["Distillation", "Metrics", "TestSupport"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
    .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
    .testTarget(name: "StudyTests", dependencies: ["Study", "CommandLineOptions", "TestSupport"]),
    // Runs the example executables (so it depends on them) and checks what they write.
    .testTarget(
      name: "ExamplesTests",
      dependencies: ["HARDistill", "CommandLineOptions", "TestSupport", "Stream"]
        + libraries.map { .target(name: $0) } + examples.map { .target(name: $0.1) }),
  ]
    + examples.map { _, target, folder in
      // The five libraries besides the umbrella that re-exports them: a target that imports only
      // the umbrella is otherwise not rebuilt when a library's interface changes.
      .executableTarget(
        name: target,
        dependencies: ["HARDistill", "CommandLineOptions"] + libraries.map { .target(name: $0) },
        path: "Examples/\(folder)")
    }
)

// Export: a trained model as an ONNX file (and the walk a C exporter will share), its tests.
package.products += [
  .library(name: "Export", targets: ["Export"]),
  .executable(name: "export", targets: ["ExportTool"]),
]
package.targets += [
  .target(name: "Export", dependencies: ["Layers", "Tensor"]),
  .executableTarget(
    name: "ExportTool",
    dependencies: [
      "Export", "Layers", "Tensor", "Datasets", "Distillation", "Metrics", "CommandLineOptions",
    ]),
  .testTarget(
    name: "ExportTests", dependencies: ["Export", "Layers", "Tensor", "Datasets", "TestSupport"]),
]
