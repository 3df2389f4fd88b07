// swift-tools-version:6.0
// HARDistill: train tiny human-activity-recognition models by distilling a teacher into a
// CBAM-attention student. Toolchain only: no package dependencies, no unsafe flags, so another
// package can depend on any library product here by URL and version.
import PackageDescription

let libraries = ["Tensor", "Layers", "Distillation", "Datasets", "Metrics"]

/// One executable per configuration, plus the study that runs them all: (product, target, folder).
let examples = [
  ("study", "Study", "Study"), ("teacher", "Teacher", "Teacher"),
  ("teacher-att", "TeacherAtt", "Teacher-Att"), ("mm", "MM", "MM"), ("lm", "LM", "LM"),
  ("rb-kd", "RBKD", "RB-KD"), ("lm-att", "LMAtt", "LM-Att"), ("rb-kd-att", "RBKDAtt", "RB-KD-Att"),
  ("rab-kd", "RABKD", "RAB-KD"),
]

let package = Package(
  name: "HARDistill",
  products: [
    .library(name: "HARDistill", targets: ["HARDistill"])
  ] + libraries.map { .library(name: $0, targets: [$0]) }
    + examples.map { .executable(name: $0.0, targets: [$0.1]) } + [
      .executable(name: "har-bench", targets: ["HarBench"]),
      .executable(name: "stream", targets: ["Stream"]),
    ],
  targets: [
    // Libraries (DESIGN §2).
    .target(name: "Tensor", dependencies: ["CKernels"]),
    // The hot loops in C: per-function AVX2/AVX-512 variants chosen at run time, no unsafe flags.
    .target(name: "CKernels"),
    .target(name: "Layers", dependencies: ["Tensor"]),
    .target(name: "Distillation", dependencies: ["Layers", "Metrics"]),
    .target(name: "Datasets"),
    .target(name: "Metrics"),
    .target(name: "HARDistill", dependencies: libraries.map { .target(name: $0) }),

    // Shared test helpers (gradient checks, closeness assertions); not a product.
    .target(name: "TestSupport", dependencies: ["Tensor"]),

    // What the executables share: options, data preparation, run records, the report.
    .target(
      name: "ExperimentSupport",
      dependencies: ["Tensor", "Layers", "Distillation", "Datasets", "Metrics"]),

    // Executables.
    .executableTarget(
      name: "HarBench", dependencies: ["Tensor", "Layers", "Datasets"], path: "Benchmarks/HarBench"),
    .executableTarget(
      name: "Stream", dependencies: ["Layers", "Datasets", "Metrics", "Tensor", "Distillation"],
      path: "Examples/Stream"),

    // Tests import their module and TestSupport, never `@testable`, so `swift test -c release` works.
    .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
    .testTarget(name: "LayersTests", dependencies: ["Layers", "TestSupport"]),
    .testTarget(
      name: "DistillationTests", dependencies: ["Distillation", "Metrics", "TestSupport"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
    .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
    .testTarget(name: "ExamplesTests", dependencies: ["ExperimentSupport", "Distillation"]),
  ]
    + examples.map { _, target, folder in
      .executableTarget(
        name: target, dependencies: ["ExperimentSupport", "Distillation", "Layers"],
        path: "Examples/\(folder)")
    }
)
