import Tensor
import Testing

/// Every fast kernel variant against the Swift reference kernels, on sizes that are not
/// multiples of any tile (1, primes, one past a tile) and on sizes that cross the cache blocks.
@Suite("Kernel variants")
struct KernelVariantTests {
  static let fastVariants = KernelVariant.allCases.filter { $0 != .reference && $0.isSupported }

  /// The largest difference between two tensors of the same shape, relative to `scale`.
  func worstDifference(_ a: Tensor, _ b: Tensor) -> Float {
    #expect(a.shape == b.shape)
    let scale = Swift.max(1, a.scalars.map(abs).max() ?? 0)
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
  }

  func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor.uniform(shape, in: -1...1, using: &rng)
  }

  @Test func bestVariantIsSupportedAndReportedByName() {
    let automatic = KernelConfiguration.automatic
    #expect(automatic.variant.isSupported)
    #expect(automatic.variant != .reference)
    #expect(automatic.threadCount >= 1)
    #expect(KernelVariant.reference.isSupported && KernelVariant.generic.isSupported)
  }

  // (m, k, n): 1 and odd sizes, one past the AVX-512 tile (9, 33), past MC = 96 rows and
  // KC = 512 / 256 depths.
  static let gemmShapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 7, 5), (5, 1, 3), (7, 5, 1), (9, 33, 17), (8, 32, 32), (33, 9, 65),
    (13, 300, 45), (97, 17, 31), (130, 70, 129), (40, 600, 33), (3, 520, 200),
    // N ≤ 16 takes the narrow AVX-512 tile (12×16).
    (300, 70, 16), (130, 200, 9), (25, 700, 3), (13, 1300, 1),
  ]

  @Test(arguments: fastVariants)
  func gemmMatchesReferenceWithAndWithoutTransposes(_ variant: KernelVariant) {
    for (index, (m, k, n)) in Self.gemmShapes.enumerated() {
      let a = random([m, k], seed: UInt64(2 * index))
      let b = random([k, n], seed: UInt64(2 * index + 1))
      let g = random([m, n], seed: UInt64(100 + index))
      // matmul's backward runs g·bᵀ and aᵀ·g: all three operand layouts.
      func run(_ v: KernelVariant) -> (Tensor, [Tensor]) {
        KernelConfiguration.with(variant: v) {
          let y = a.matmul(b)
          let (_, grads) = valueWithGradients(at: [a, b]) { p in (p[0].matmul(p[1]) * g).sum() }
          return (y, grads)
        }
      }
      let (expected, expectedGrads) = run(.reference)
      let (actual, actualGrads) = run(variant)
      // Float32 sums of up to 600 products in a different order: relative 1e-5 of the largest.
      #expect(worstDifference(expected, actual) <= 1e-5, "\(variant) \(m)×\(k)×\(n)")
      for (e, x) in zip(expectedGrads, actualGrads) {
        #expect(worstDifference(e, x) <= 1e-5, "\(variant) \(m)×\(k)×\(n) gradient")
      }
    }
  }

  @Test(arguments: fastVariants)
  func batchedMatmulMatchesReference(_ variant: KernelVariant) {
    let a = random([3, 17, 40], seed: 1)
    let b = random([40, 33], seed: 2)
    let expected = KernelConfiguration.with(variant: .reference) { a.matmul(b) }
    let actual = KernelConfiguration.with(variant: variant) { a.matmul(b) }
    #expect(worstDifference(expected, actual) <= 1e-5)
  }

  /// The LSTM recurrence's fused cell (its vectorized exponential) against the reference's C
  /// library exp and tanh, over pre-activations from −30 to 30 (saturated gates, both signs) and
  /// near zero (tanh's series branch), for both output forms, with the backward pass.
  @Test(arguments: fastVariants)
  func lstmSequenceMatchesReference(_ variant: KernelVariant) {
    let (batch, time, units) = (3, 5, 7)
    var rng = SplitMix64(seed: 9)
    let wide = Tensor.uniform([batch, time, 4 * units], in: -30...30, using: &rng)
    let narrow = Tensor.uniform([batch, time, 4 * units], in: -0.03...0.03, using: &rng)
    let kernel = Tensor.uniform([units, 4 * units], in: -1...1, using: &rng)
    let bias = Tensor.uniform([4 * units], in: -0.5...0.5, using: &rng)
    for projected in [wide, narrow] {
      for sequences in [true, false] {
        let seed = Tensor.uniform(
          sequences ? [batch, time, units] : [batch, units], in: -1...1,
          using: &rng)
        func run(_ v: KernelVariant) -> (Tensor, [Tensor]) {
          KernelConfiguration.with(variant: v) {
            let f = { (p: [Tensor]) in
              Tensor.lstmSequence(
                projected: p[0], recurrentKernel: p[1], bias: p[2], returnSequences: sequences)
            }
            let (_, grads) = valueWithGradients(at: [projected, kernel, bias]) {
              (f($0) * seed).sum()
            }
            return (f([projected, kernel, bias]), grads)
          }
        }
        let (expected, expectedGrads) = run(.reference)
        let (actual, actualGrads) = run(variant)
        // A few ulp of the exponential, carried through five steps.
        #expect(worstDifference(expected, actual) <= 2e-6, "\(variant) sequences \(sequences)")
        for (e, x) in zip(expectedGrads, actualGrads) {
          #expect(worstDifference(e, x) <= 1e-5, "\(variant) sequences \(sequences) gradient")
        }
      }
    }
  }

  struct ConvCase: Sendable, CustomTestStringConvertible {
    let input: [Int]
    let filter: [Int]
    var stride = 1
    var dilation = 1
    var padding = Padding.same
    var bias = true
    var testDescription: String {
      "\(input) ⊛ \(filter) stride \(stride) dilation \(dilation) \(padding)"
    }
  }

  static let convCases: [ConvCase] = [
    ConvCase(input: [1, 1, 1], filter: [1, 1, 1]),
    ConvCase(input: [1, 5, 1], filter: [5, 1, 1], bias: false),
    ConvCase(input: [3, 13, 9], filter: [5, 9, 16]),
    ConvCase(input: [2, 17, 7], filter: [3, 7, 33], stride: 2),
    ConvCase(input: [2, 20, 5], filter: [4, 5, 11], stride: 3, dilation: 2, padding: .valid),
    ConvCase(input: [2, 11, 3], filter: [7, 3, 45], dilation: 2),
    ConvCase(input: [5, 64, 16], filter: [5, 16, 32]),
    ConvCase(input: [4, 9, 2], filter: [7, 2, 1], bias: false),
    // Implicit GEMM (stride 1, dilation 1, same): even kernel (pad 1 before, 2 after), a time
    // axis exactly as long as the kernel, one sample.
    ConvCase(input: [2, 4, 3], filter: [4, 3, 6]),
    ConvCase(input: [1, 9, 5], filter: [3, 5, 7]),
    ConvCase(input: [3, 6, 2], filter: [6, 2, 17]),
    // Large enough to run on two threads and to use several im2col blocks.
    ConvCase(input: [24, 64, 64], filter: [5, 64, 48]),
  ]

  @Test(arguments: fastVariants, convCases)
  func conv1DForwardAndBackwardMatchReference(_ variant: KernelVariant, _ c: ConvCase) {
    let x = random(c.input, seed: 11)
    let w = random(c.filter, seed: 12)
    let b = random([c.filter[2]], seed: 13)
    func run(_ v: KernelVariant) -> [Tensor] {
      KernelConfiguration.with(variant: v) {
        let inputs = c.bias ? [x, w, b] : [x, w]
        func apply(_ p: [Tensor]) -> Tensor {
          p[0].conv1D(
            filter: p[1], bias: c.bias ? p[2] : nil, stride: c.stride, dilation: c.dilation,
            padding: c.padding)
        }
        let y = apply(inputs)
        let g = random(y.shape, seed: 14)
        let (_, grads) = valueWithGradients(at: inputs) { p in (apply(p) * g).sum() }
        return [y] + grads
      }
    }
    let expected = run(.reference)
    let actual = run(variant)
    for (index, (e, a)) in zip(expected, actual).enumerated() {
      #expect(worstDifference(e, a) <= 1e-5, "\(variant) \(c.testDescription) output \(index)")
    }
  }

  /// Shapes that take Winograd's F(4, 5) forward kernel (kernel 5, stride 1, dilation 1, ≥ 16
  /// channels in and out): a last tile with one real row, windows shorter than one tile or than
  /// the kernel's reach (padding on both sides of a tile), one step, `valid` padding, channel
  /// counts off the SIMD width, and a batch spanning several tile blocks (85 tiles per block for
  /// 64 + 128 channels, so a block ends inside a sample) split over threads.
  static let winogradCases: [ConvCase] = [
    ConvCase(input: [3, 13, 32], filter: [5, 32, 33]),
    ConvCase(input: [2, 6, 37], filter: [5, 37, 32], bias: false),
    ConvCase(input: [1, 1, 40], filter: [5, 40, 48]),
    // (16 → 16 and 16 → 32 run on the direct small-channel kernels instead.)
    ConvCase(input: [5, 64, 16], filter: [5, 16, 48]),
    ConvCase(input: [2, 9, 35], filter: [5, 35, 64], padding: .valid),
    ConvCase(input: [1, 5, 32], filter: [5, 32, 32], padding: .valid),
    ConvCase(input: [16, 64, 64], filter: [5, 64, 128]),
  ]

  /// Winograd's forward pass and both gradients against the reference sums: Toom–Cook with
  /// points 0, ±1, ±2, ±½ scales some terms by up to 21/4 before they cancel, so float32
  /// rounding is a few times the direct sum's (relative to the largest value, ≤ 1.7·10⁻⁶ for the
  /// outputs and ≤ 1.9·10⁻⁶ for the gradients on these cases in every variant, against
  /// ≤ 5.7·10⁻⁷ for im2col + GEMM); 5·10⁻⁶ leaves room for other CPUs. The input gradient is the
  /// flipped, transposed filter run through the same path (`valid` padding then pads four steps
  /// before); the filter gradient is F(5, 4) over the upstream gradient's tiles.
  @Test(arguments: fastVariants, winogradCases)
  func winogradMatchesReference(_ variant: KernelVariant, _ c: ConvCase) {
    let x = random(c.input, seed: 21)
    let w = random(c.filter, seed: 22)
    let b = c.bias ? random([c.filter[2]], seed: 23) : nil
    func run(_ v: KernelVariant, winograd: Bool) -> [Tensor] {
      KernelConfiguration.with(KernelConfiguration(variant: v, threadCount: 2, winograd: winograd))
      {
        func apply(_ input: Tensor, _ filter: Tensor) -> Tensor {
          input.conv1D(filter: filter, bias: b, padding: c.padding, activation: .relu)
        }
        let y = apply(x, w)
        let g = random(y.shape, seed: 24)
        let (_, grads) = valueWithGradients(at: [x, w]) { p in (apply(p[0], p[1]) * g).sum() }
        return [y] + grads
      }
    }
    let expected = run(.reference, winograd: true)
    let actual = run(variant, winograd: true)
    let direct = run(variant, winograd: false)
    for (index, name) in ["output", "input gradient", "filter gradient"].enumerated() {
      let (e, a, d) = (expected[index], actual[index], direct[index])
      #expect(worstDifference(e, a) <= 5e-6, "\(variant) \(c.testDescription) \(name)")
      #expect(worstDifference(e, d) <= 1e-5, "\(variant) \(c.testDescription) \(name)")
      // The other algorithm really ran: its rounding differs from im2col + GEMM's somewhere.
      #expect(a.scalars != d.scalars, "\(variant) \(c.testDescription) \(name)")
    }
  }

  /// Convolutions outside Winograd's conditions give the same bits with it allowed or not.
  @Test(arguments: fastVariants)
  func winogradLeavesOtherConvolutionsAlone(_ variant: KernelVariant) {
    let cases: [ConvCase] = [
      ConvCase(input: [2, 16, 32], filter: [5, 32, 32], stride: 2),
      ConvCase(input: [2, 16, 32], filter: [5, 32, 32], dilation: 2),
      ConvCase(input: [2, 16, 32], filter: [3, 32, 32]),
      ConvCase(input: [2, 16, 15], filter: [5, 15, 32]),
      ConvCase(input: [2, 16, 32], filter: [5, 32, 15]),
    ]
    for c in cases {
      let x = random(c.input, seed: 31)
      let w = random(c.filter, seed: 32)
      func run(winograd: Bool) -> Tensor {
        KernelConfiguration.with(
          KernelConfiguration(variant: variant, threadCount: 1, winograd: winograd)
        ) {
          x.conv1D(filter: w, stride: c.stride, dilation: c.dilation, padding: c.padding)
        }
      }
      #expect(run(winograd: true).scalars == run(winograd: false).scalars, "\(c.testDescription)")
    }
  }

  /// CBAM's inference kernel against the two gates' differentiable operations: channel counts
  /// off the 16-lane width, one time step, an even spatial kernel (one padding step before, two
  /// after), and a batch large enough to be split over threads (≥ 65,536 elements).
  @Test(arguments: fastVariants + [.reference])
  func cbamForInferenceMatchesTheComposition(_ variant: KernelVariant) {
    let cases: [(input: [Int], width: Int, kernel: Int)] = [
      ([3, 13, 37], 5, 7), ([1, 1, 16], 2, 3), ([2, 64, 32], 8, 7), ([70, 20, 48], 6, 4),
    ]
    for (index, c) in cases.enumerated() {
      let seed = UInt64(40 + 4 * index)
      let x = random(c.input, seed: seed)
      let hidden = random([c.input[2], c.width], seed: seed + 1)
      let output = random([c.width, c.input[2]], seed: seed + 2)
      let filter = random([c.kernel, 2, 1], seed: seed + 3)
      let (refined, channelMap) = KernelConfiguration.with(variant: .reference) {
        x.channelAttention(hidden: hidden, output: output)
      }
      let (expected, spatialMap) = KernelConfiguration.with(variant: .reference) {
        refined.spatialAttention(filter: filter)
      }
      let fused = KernelConfiguration.with(
        KernelConfiguration(variant: variant, threadCount: 2)
      ) { x.cbamForInference(hidden: hidden, output: output, spatialFilter: filter) }
      // Sums over channels in 16 lanes and MLP sums in another order: rounding only.
      #expect(worstDifference(expected, fused.output) <= 1e-6, "\(variant) \(c.input)")
      #expect(worstDifference(channelMap, fused.channelMap) <= 1e-6, "\(variant) \(c.input)")
      #expect(worstDifference(spatialMap, fused.spatialMap) <= 1e-6, "\(variant) \(c.input)")
    }
  }

  @Test(arguments: fastVariants)
  func maxReductionsAndPoolingMatchReferenceInEveryVariant(_ variant: KernelVariant) {
    let x = random([3, 10, 37], seed: 61)
    func run(_ v: KernelVariant) -> [Tensor] {
      KernelConfiguration.with(variant: v) {
        let g = random([3, 5, 37], seed: 62)
        let pooled = valueWithGradients(at: [x]) { p in (p[0].maxPool1D(kernelSize: 2) * g).sum() }
        return [
          x.max(alongAxis: 1), x.max(alongAxis: 2), x.max(alongAxes: [0, 1]),
          x.maxPool1D(kernelSize: 3, stride: 2, padding: .same),
        ] + pooled.gradients
      }
    }
    for (e, a) in zip(run(.reference), run(variant)) { #expect(e.scalars == a.scalars) }
  }

  /// CBAM's fused descriptors: every variant gives the reference's maxima bit for bit and its
  /// means to rounding (AVX-512 sums contiguous rows in 16 lanes), values equal to the separate
  /// mean and max, and the same gradients (through the arg-max).
  @Test(arguments: fastVariants)
  func meanAndMaxMatchesReferenceAndTheSeparateOperations(_ variant: KernelVariant) {
    var x = random([3, 10, 37], seed: 71)
    x[1, 4, 5] = x[1, 2, 5]  // a tie: the first maximum wins
    for axis in [0, 1, 2] {
      func run(_ v: KernelVariant) -> (Tensor, Tensor) {
        KernelConfiguration.with(variant: v) {
          let g = random(x.meanAndMax(alongAxis: axis).shape, seed: 72)
          let (_, grads) = valueWithGradients(at: [x]) { p in
            (p[0].meanAndMax(alongAxis: axis) * g).sum()
          }
          return (x.meanAndMax(alongAxis: axis), grads[0])
        }
      }
      let (expected, expectedGradient) = run(.reference)
      let (actual, gradient) = run(variant)
      #expect(worstDifference(expected, actual) <= 1e-6, "\(variant) axis \(axis)")
      let maxima = { (t: Tensor) in t.sliced(alongAxis: axis, range: 1..<2).scalars }
      #expect(maxima(expected) == maxima(actual), "\(variant) axis \(axis) maxima")
      #expect(
        worstDifference(expectedGradient, gradient) <= 1e-6, "\(variant) axis \(axis) gradient")
      let separate = Tensor.concatenating(
        [
          x.mean(alongAxis: axis, keepingDimensions: true),
          x.max(alongAxis: axis, keepingDimensions: true),
        ],
        alongAxis: axis)
      #expect(separate.shape == actual.shape)
      #expect(
        worstDifference(separate, actual) <= 1e-6, "\(variant) axis \(axis) against mean, max")
    }
  }

  /// The maximum over a contiguous last axis (AVX-512: a vector max, then a search for the first
  /// equal element) keeps the scalar rules: first maximum wins, NaN never replaces unless first,
  /// −0 and +0 are ties; rows of 1, 15, 16, 17 and 33 elements cover the vector tail.
  @Test(arguments: fastVariants)
  func maxOverTheLastAxisKeepsTheFirstMaximum(_ variant: KernelVariant) {
    let nan = Float.nan
    let rows: [[Float]] = [
      [2], [1, 3, 3, 0], [nan, 5, 7], [4, nan, 9, nan, 1], [-0.0, 0.0, -1], [0.0, -0.0],
      [-.infinity, -.infinity], [1, .infinity, 2, .infinity],
      (0..<15).map { Float($0 % 4) }, (0..<16).map { Float(-$0) },
      (0..<17).map { Float($0 == 16 ? 9 : 1) },
      (0..<33).map { Float(($0 * 7) % 11) },
    ]
    for row in rows {
      let x = Tensor(row).reshaped(to: [1, row.count])
      let seed = Tensor(ones: [1])
      func run(_ v: KernelVariant) -> (Tensor, Tensor) {
        KernelConfiguration.with(variant: v) {
          let tape = Tape()
          let tracked = tape.variable(x)
          let y = tracked.max(alongAxis: 1)
          return (y.detached(), tape.vectorJacobianProducts(of: y, seed: seed, wrt: [tracked])[0])
        }
      }
      let (expected, expectedGradient) = run(.reference)
      let (actual, gradient) = run(variant)
      #expect(
        expected.scalars.map(\.bitPattern) == actual.scalars.map(\.bitPattern), "\(variant) \(row)")
      #expect(expectedGradient.scalars == gradient.scalars, "\(variant) \(row): arg-max")
    }
  }

  @Test func conv1DAndGEMMGiveTheSameBitsOnOneAndTwoThreads() {
    let x = random([32, 64, 64], seed: 21)
    let w = random([5, 64, 128], seed: 22)
    let a = random([300, 200], seed: 23)
    let b = random([200, 150], seed: 24)
    let one = KernelConfiguration.with(threadCount: 1) { (x.conv1D(filter: w), a.matmul(b)) }
    let two = KernelConfiguration.with(threadCount: 2) { (x.conv1D(filter: w), a.matmul(b)) }
    #expect(one.0.scalars == two.0.scalars)
    #expect(one.1.scalars == two.1.scalars)
  }

  @Test func conv1DFilterGradientOnTwoThreadsMatchesOneWithinRounding() {
    let x = random([32, 64, 64], seed: 31)
    let w = random([5, 64, 128], seed: 32)
    let g = random([32, 64, 128], seed: 33)
    func grads(_ threads: Int) -> [Tensor] {
      KernelConfiguration.with(threadCount: threads) {
        valueWithGradients(at: [x, w]) { p in (p[0].conv1D(filter: p[1], padding: .same) * g).sum()
        }
        .gradients
      }
    }
    let (one, two) = (grads(1), grads(2))
    // The input gradient is split by samples (same bits); the filter gradient adds two partial
    // sums over half the batch each.
    #expect(one[0].scalars == two[0].scalars)
    #expect(worstDifference(one[1], two[1]) <= 1e-5)
  }

  /// Broadcasts, reductions and pooling: the row-wise fast paths against the per-element
  /// reference loops, values and gradients, on odd shapes.
  static let layoutCases: [(String, [[Int]], @Sendable ([Tensor]) -> Tensor)] = [
    ("[3,5,7] × [3,1,7]", [[3, 5, 7], [3, 1, 7]], { $0[0] * $0[1] }),
    ("[3,5,7] × [3,5,1]", [[3, 5, 7], [3, 5, 1]], { $0[0] * $0[1] }),
    ("[2,1,3] + [4,1]", [[2, 1, 3], [4, 1]], { $0[0] + $0[1] }),
    ("[5] − [2,3,5]", [[5], [2, 3, 5]], { $0[0] - $0[1] }),
    ("[1,1] / [3,1,4]", [[1, 1], [3, 1, 4]], { $0[0] / ($0[1] * $0[1] + 1) }),
    ("[2,3,1,4] × [3,5,1]", [[2, 3, 1, 4], [3, 5, 1]], { $0[0] * $0[1] }),
    ("sum over 1", [[3, 5, 7]], { $0[0].sum(alongAxis: 1) }),
    ("mean over 0, 1", [[3, 5, 7]], { $0[0].mean(alongAxes: [0, 1]) }),
    ("mean over 2", [[3, 5, 7]], { $0[0].mean(alongAxis: 2, keepingDimensions: true) }),
    ("sum over 0, 2", [[3, 5, 7]], { $0[0].sum(alongAxes: [0, 2]) }),
    ("max over 1", [[3, 5, 7]], { $0[0].max(alongAxis: 1) }),
    ("max over 2", [[3, 5, 7]], { $0[0].max(alongAxis: 2, keepingDimensions: true) }),
    ("max over 0, 2", [[3, 5, 7]], { $0[0].max(alongAxes: [0, 2]) }),
    ("max over all", [[1, 1, 1]], { $0[0].max() }),
    ("maxPool 2", [[3, 9, 5]], { $0[0].maxPool1D(kernelSize: 2) }),
    (
      "maxPool 3/2 same", [[2, 7, 3]], { $0[0].maxPool1D(kernelSize: 3, stride: 2, padding: .same) }
    ),
    ("maxPool 1", [[1, 1, 1]], { $0[0].maxPool1D(kernelSize: 1) }),
  ]

  @Test(arguments: 0..<layoutCases.count)
  func layoutFastPathsMatchReference(_ index: Int) {
    let (name, shapes, apply) = Self.layoutCases[index]
    let inputs = shapes.enumerated().map { random($0.element, seed: UInt64(40 + $0.offset)) }
    func run(_ variant: KernelVariant) -> [Tensor] {
      KernelConfiguration.with(variant: variant) {
        let y = apply(inputs)
        let g = random(y.shape, seed: 49)
        return [y] + valueWithGradients(at: inputs) { p in (apply(p) * g).sum() }.gradients
      }
    }
    let (expected, actual) = (run(.reference), run(KernelConfiguration.automatic.variant))
    for (e, a) in zip(expected, actual) {
      #expect(e.shape == a.shape, "\(name)")
      #expect(worstDifference(e, a) <= 1e-6, "\(name)")
    }
  }

  @Test(arguments: fastVariants)
  func conv1DOnUntrackedInputGivesFilterGradientsOnly(_ variant: KernelVariant) {
    // A model's first layer: the data is not tracked, so no input gradient is computed.
    let x = random([3, 17, 9], seed: 51)
    let w = random([5, 9, 16], seed: 52)
    let b = random([16], seed: 53)
    func run(_ v: KernelVariant) -> [Tensor] {
      KernelConfiguration.with(variant: v) {
        valueWithGradients(at: [w, b]) { p in
          x.conv1D(filter: p[0], bias: p[1], padding: .same).relu().sum()
        }.gradients
      }
    }
    for (e, a) in zip(run(.reference), run(variant)) { #expect(worstDifference(e, a) <= 1e-5) }
  }
}
