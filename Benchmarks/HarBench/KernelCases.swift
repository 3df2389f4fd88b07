import Foundation
@_spi(Kernels) import Tensor

/// A GEMM shape: `m×k` times `k×n`, with `a` or `b` stored transposed as in a backward pass.
struct GEMMShape {
  let m: Int, k: Int, n: Int
  var transposeA = false
  var transposeB = false
  var name: String {
    "\(m)x\(k)x\(n)" + (transposeA ? ".at" : "") + (transposeB ? ".bt" : "")
  }
  var flops: Double { 2 * Double(m) * Double(k) * Double(n) }
}

/// Square sizes, then the im2col GEMMs of the reference models at batch 64 (forward cols·W,
/// filter gradient colsᵀ·dY, input gradient dY·Wᵀ).
let gemmShapes: [GEMMShape] = [
  GEMMShape(m: 64, k: 64, n: 64), GEMMShape(m: 256, k: 256, n: 256),
  GEMMShape(m: 512, k: 512, n: 512), GEMMShape(m: 1024, k: 1024, n: 1024),
  // teacher conv1 9→64 (L 128), conv2 64→64 (L 128), conv3 64→128 (L 64),
  // conv4 128→128 (L 64)
  GEMMShape(m: 8192, k: 45, n: 64), GEMMShape(m: 45, k: 8192, n: 64, transposeA: true),
  GEMMShape(m: 8192, k: 320, n: 64), GEMMShape(m: 320, k: 8192, n: 64, transposeA: true),
  GEMMShape(m: 8192, k: 64, n: 320, transposeB: true),
  GEMMShape(m: 4096, k: 320, n: 128), GEMMShape(m: 320, k: 4096, n: 128, transposeA: true),
  GEMMShape(m: 4096, k: 128, n: 320, transposeB: true),
  GEMMShape(m: 4096, k: 640, n: 128), GEMMShape(m: 640, k: 4096, n: 128, transposeA: true),
  GEMMShape(m: 4096, k: 128, n: 640, transposeB: true),
  // lm conv1 9→16 (L 128), conv2 16→32 (L 64)
  GEMMShape(m: 8192, k: 45, n: 16), GEMMShape(m: 4096, k: 80, n: 32),
]

func randomArray(_ count: Int, seed: UInt64) -> [Float] {
  var rng = SplitMix64(seed: seed)
  return Tensor.uniform([count], in: -1...1, using: &rng).scalars
}

func runGEMMCases(_ options: Options, _ report: inout Report) throws {
  let current = KernelConfiguration.current
  let fastVariants = KernelVariant.allCases.filter { $0 != .reference && $0.isSupported }
  for shape in gemmShapes {
    let name = "gemm." + shape.name
    let variantName = { (variant: KernelVariant) in "gemm-variant.\(variant).\(shape.name)" }
    let wantsVariants = KernelVariant.allCases.contains { options.selects(variantName($0)) }
    guard options.selects(name) || wantsVariants else { continue }
    let a = randomArray(shape.m * shape.k, seed: 1)
    let b = randomArray(shape.k * shape.n, seed: 2)
    var expected = [Float](repeating: 0, count: shape.m * shape.n)
    var c = expected
    func run(_ variant: KernelVariant, _ out: inout [Float]) {
      GEMMKernels.multiply(
        m: shape.m, n: shape.n, k: shape.k, a, transposeA: shape.transposeA, b,
        transposeB: shape.transposeB, into: &out,
        configuration: KernelConfiguration(variant: variant, threadCount: current.threadCount))
    }
    run(.reference, &expected)
    for variant in fastVariants {
      run(variant, &c)
      // Sums of up to 8192 products of numbers in [-1, 1], in another order.
      try check("\(name) \(variant)", expected, c, tolerance: 1e-5)
    }
    // The naive reference is slow on large shapes: fewer, shorter samples.
    let rounds = options.quick ? 1 : 5
    let variants = [KernelVariant.reference] + fastVariants
    let (medians, foreign) = interleaved(
      rounds: rounds, minimumSeconds: options.quick ? 0.02 : 0.1,
      variants.map { variant in { run(variant, &c) } })
    let gflops = medians.map { shape.flops / $0 / 1e9 }
    let active = variants.firstIndex(of: current.variant) ?? variants.count - 1
    let note = foreign > 0.25 ? String(format: "other jobs used %.2f cores", foreign) : ""
    if options.selects(name) {
      report.add(
        name, metric: "gflops", value: gflops[active], baseline: ("reference", gflops[0]),
        note: note)
    }
    if wantsVariants {
      for (index, variant) in variants.enumerated()
      where index != active && options.selects(variantName(variant)) {
        report.add(
          variantName(variant), metric: "gflops", value: gflops[index],
          baseline: ("reference", gflops[0]), note: note)
      }
    }
  }
}

/// The convolution layers of the reference models, at batch 64 on 128-step windows.
let convLayers: [(name: String, input: [Int], filter: [Int])] = [
  ("teacher1", [64, 128, 9], [5, 9, 64]), ("teacher2", [64, 128, 64], [5, 64, 64]),
  ("teacher3", [64, 64, 64], [5, 64, 128]), ("teacher4", [64, 64, 128], [5, 128, 128]),
  ("lm1", [64, 128, 9], [5, 9, 16]), ("lm2", [64, 64, 16], [5, 16, 32]),
]

func runConvCases(_ options: Options, _ report: inout Report) throws {
  for layer in convLayers {
    let forwardName = "conv.\(layer.name).forward"
    let backwardName = "conv.\(layer.name).backward"
    guard options.selects(forwardName) || options.selects(backwardName) else { continue }
    var rng = SplitMix64(seed: 5)
    let x = Tensor.uniform(layer.input, in: -1...1, using: &rng)
    let w = Tensor.glorotUniform(layer.filter, using: &rng)
    let bias = Tensor.uniform([layer.filter[2]], in: -1...1, using: &rng)
    let upstream = Tensor.uniform(
      [layer.input[0], layer.input[1], layer.filter[2]], in: -1...1, using: &rng)
    func forward() -> Tensor { x.conv1D(filter: w, bias: bias, padding: .same) }
    // The input is tracked, as for every convolution after a model's first. The tape is
    // recorded once per configuration; replaying it times the backward pass alone (input,
    // filter and bias gradients, plus the negligible product with `upstream` and the sum).
    func recorded() -> (Tape, Tensor, [Tensor]) {
      let tape = Tape()
      let inputs = [x, w, bias].map(tape.variable)
      let loss = (inputs[0].conv1D(filter: inputs[1], bias: inputs[2], padding: .same) * upstream)
        .sum()
      return (tape, loss, inputs)
    }
    let (referenceTape, referenceLoss, referenceInputs) = KernelConfiguration.with(
      variant: .reference
    ) { recorded() }
    let (tape, loss, inputs) = recorded()
    func backward() -> [Tensor] { tape.gradients(of: loss, wrt: inputs) }
    func referenceBackward() -> [Tensor] {
      KernelConfiguration.with(variant: .reference) {
        referenceTape.gradients(of: referenceLoss, wrt: referenceInputs)
      }
    }
    let reference = (
      KernelConfiguration.with(variant: .reference) { forward() }, referenceBackward()
    )
    let fast = (forward(), backward())
    try check(forwardName, reference.0.scalars, fast.0.scalars, tolerance: 1e-5)
    for (r, f) in zip(reference.1, fast.1) {
      try check(backwardName, r.scalars, f.scalars, tolerance: 1e-4)
    }
    let rounds = options.quick ? 1 : 3
    let flops = 2.0 * Double(layer.input[0] * layer.input[1] * layer.filter.reduce(1, *))
    for (name, isForward) in [(forwardName, true), (backwardName, false)]
    where options.selects(name) {
      let (medians, foreign) = interleaved(
        rounds: rounds, minimumSeconds: options.quick ? 0.02 : 0.1,
        [
          {
            _ =
              isForward
              ? [KernelConfiguration.with(variant: .reference) { forward() }] : referenceBackward()
          },
          { _ = isForward ? [forward()] : backward() },
        ])
      // The backward pass (input and filter gradients) does twice the forward's work.
      let work = isForward ? flops : 2 * flops
      var note = String(format: "%.1f GFLOP/s", work / medians[1] / 1e9)
      if foreign > 0.25 { note += String(format: "; other jobs used %.2f cores", foreign) }
      report.add(
        name, metric: "ms", value: medians[1] * 1e3, baseline: ("reference", medians[0] * 1e3),
        note: note)
    }
  }
}

/// What starting a parallel region costs: 8 pieces of 100 µs of busy waiting on the configured
/// threads, as Tensor's operations cut their work. `region.cold` starts each region 2 ms after the
/// previous one (the workers asleep), `region.hot` right after it; both report the median region
/// in µs, the ideal being 8 × 100 µs / threads.
func runRegionCases(_ options: Options, _ report: inout Report) {
  let threads = KernelConfiguration.current.threadCount
  let ideal = 8 * 100.0 / Double(Swift.min(threads, 8))
  for (name, pause) in [("region.cold", 2e-3), ("region.hot", 0.0)]
  where options.selects(name) {
    var times: [Double] = []
    for _ in 0..<(options.quick ? 50 : 500) {
      if pause > 0 { usleep(UInt32(pause * 1e6)) }
      let start = now()
      forEachPiece(8, threads: threads) { _ in
        let pieceStart = now()
        while now() - pieceStart < 100e-6 {}
      }
      times.append((now() - start) * 1e6)
    }
    report.add(
      name, metric: "median_us", value: median(times),
      note: String(format: "ideal %.0f µs, fastest %.0f µs", ideal, times.min() ?? 0))
  }
}
