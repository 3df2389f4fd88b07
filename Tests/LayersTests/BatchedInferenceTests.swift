import Layers
@_spi(Inference) import Tensor
import Testing

/// The window-at-a-time path of `InferencePlan` (the students' layers, fused per window) and its
/// kernels.
@Suite("Batched inference")
struct BatchedInferenceTests {
  /// The largest difference between two arrays, relative to the largest magnitude of `expected`
  /// (at least 1).
  func worstDifference(_ expected: [Float], _ actual: [Float]) -> Float {
    #expect(expected.count == actual.count)
    let scale = Swift.max(1, expected.map(abs).max() ?? 0)
    return zip(expected, actual).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
  }

  /// Every reference model at batch sizes 1, 7 and 256: the plan's logits are the forward
  /// pass's within 1e-5 (relative to the largest logit), on every kernel variant this CPU runs,
  /// with Winograd's convolutions and without.
  @Test(arguments: ReferenceModel.allCases, [1, 7, 256])
  func batchedPlanEqualsTheForwardPass(_ model: ReferenceModel, batch: Int) throws {
    var rng = SplitMix64(seed: 41)
    let network = model.make(channels: 9, classes: 6, generator: &rng)
    let x = Tensor.normal([batch, 128, 9], using: &rng)
    let expected = network(x).scalars
    for variant in [KernelVariant.generic, .avx2FMA, .avx512F] where variant.isSupported {
      for winograd in [true, false] {
        let actual = try KernelConfiguration.with(variant: variant) {
          try KernelConfiguration.with(winograd: winograd) {
            try InferencePlan(network, inputShape: x.shape)(x).scalars
          }
        }
        #expect(
          worstDifference(expected, actual) <= 1e-5,
          "\(model) batch \(batch) \(variant) winograd \(winograd)")
      }
    }
  }

  /// Layer patterns around the fused ones: a convolution without ReLU before global average
  /// pooling, an even kernel, an odd length before pooling by 2, CBAM not followed by global
  /// pooling, a convolution wider than the fused path takes, pooling other than by 2.
  @Test(arguments: 0..<6)
  func patternsAroundTheFusedLayers(_ pattern: Int) throws {
    var rng = SplitMix64(seed: 42 + UInt64(pattern))
    func conv(_ input: Int, _ output: Int, _ kernel: Int) -> Conv1D {
      Conv1D(
        inputChannels: input, outputChannels: output, kernelSize: kernel, padding: .same,
        generator: &rng)
    }
    var layers: [any Layer]
    var length = 37
    switch pattern {
    case 0: layers = [conv(5, 20, 3), GlobalAvgPool1D()]
    case 1: layers = [conv(5, 17, 4), ReLU(), MaxPool1D(kernelSize: 2), conv(17, 3, 1)]
    case 2:
      layers = [
        conv(5, 33, 5), ReLU(), MaxPool1D(kernelSize: 2), conv(33, 49, 7), ReLU(),
        CBAM(channels: 49, reduction: 7, spatialKernel: 5, generator: &rng),
      ]
    case 3: layers = [conv(5, 70, 5), ReLU(), conv(70, 12, 3), ReLU(), GlobalAvgPool1D()]
    case 4: layers = [conv(5, 8, 5), ReLU(), MaxPool1D(kernelSize: 3), conv(8, 8, 3)]
    default:
      length = 2
      layers = [
        conv(5, 64, 5), ReLU(), MaxPool1D(kernelSize: 2), conv(64, 16, 3),
        CBAM(channels: 16, reduction: 4, generator: &rng), GlobalAvgPool1D(),
        Dense(inputSize: 16, outputSize: 3, generator: &rng),
      ]
    }
    let network = Sequential(layers)
    for batch in [1, 7] {
      let x = Tensor.normal([batch, length, 5], using: &rng)
      let plan = try InferencePlan(network, inputShape: x.shape)
      let expected = network(x)
      #expect(plan.outputShape == expected.shape)
      let actual = plan(x)
      #expect(worstDifference(expected.scalars, actual.scalars) <= 1e-5, "pattern \(pattern)")
      #expect(plan(x).scalars == actual.scalars)
    }
  }

  /// A layer inside a fused run that rejects its input is named, with the shape it was given.
  @Test func aShapeErrorInsideTheFusedLayersNamesTheLayer() {
    var rng = SplitMix64(seed: 43)
    let network = Sequential {
      Conv1D(inputChannels: 9, outputChannels: 16, kernelSize: 5, padding: .same, generator: &rng)
      ReLU()
      Conv1D(inputChannels: 8, outputChannels: 4, kernelSize: 5, padding: .same, generator: &rng)
    }
    #expect {
      _ = try InferencePlan(network, inputShape: [2, 128, 9])
    } throws: { error in
      "\(error)".contains("layer 2 (Conv1D)") && "\(error)".contains("[2, 128, 16]")
    }
  }

  /// The convolution kernel on values worked by hand: kernel 3, one input channel, two outputs.
  /// Padded input [0, 1, 2, 3, 0]; filter taps (1, 0, −1) for output 0 and (1, 1, 1) for output
  /// 1; bias (0.5, −4): a = [[0.5 + 0 − 2, −4 + 3], [0.5 + 1 − 3, −4 + 6], [0.5 + 2 − 0, −4 + 5]]
  /// = [[−1.5, −1], [−1.5, 2], [2.5, 1]].
  @Test func convolutionByHand() {
    let xp: [Float] = [0, 1, 2, 3, 0]
    let filter: [Float] = [1, 1, 0, 1, -1, 1]  // [tap, in, out]
    let bias: [Float] = [0.5, -4]
    for variant in [KernelVariant.generic, .avx2FMA, .avx512F] where variant.isSupported {
      KernelConfiguration.with(variant: variant) {
        var stored = [Float](repeating: 9, count: 6)
        var relu = stored
        var pooled = [Float](repeating: 9, count: 2)
        var sum: [Float] = [10, 20]
        func run(_ y: inout [Float], _ relu: Bool, _ output: BufferKernels.WindowOutput) {
          BufferKernels.windowConv1D(
            xp, length: 3, inChannels: 1, filter: filter, kernelSize: 3, outChannels: 2,
            bias: bias, relu: relu, output: output, into: &y)
        }
        run(&stored, false, .store(rowStride: 2))
        run(&relu, true, .store(rowStride: 2))
        run(&pooled, true, .pool2(rowStride: 2))
        run(&sum, false, .sum)
        #expect(stored == [-1.5, -1, -1.5, 2, 2.5, 1], "\(variant)")
        #expect(relu == [0, 0, 0, 2, 2.5, 1], "\(variant)")
        #expect(pooled == [0, 2], "\(variant)")
        #expect(sum == [10 - 0.5, 20 + 2], "\(variant)")
      }
    }
  }

  /// The convolution kernel against direct sums in double precision, for channel counts across
  /// the register blocks' edges (1 to 64 outputs, masked last vectors) and lengths that leave
  /// every kind of tail.
  @Test(arguments: [(1, 1, 1), (9, 16, 5), (16, 32, 5), (3, 17, 3), (7, 40, 7), (33, 64, 2)])
  func convolutionAgainstDirectSums(_ shape: (Int, Int, Int)) {
    let (inChannels, outChannels, kernel) = shape
    var rng = SplitMix64(seed: UInt64(inChannels * 100 + outChannels))
    for length in [1, 2, 5, 13, 31] {
      let rows = length + kernel - 1
      let before = (kernel - 1) / 2
      var xp = Tensor.normal([rows, inChannels], using: &rng).scalars
      for t in 0..<rows where t < before || t >= before + length {
        for i in 0..<inChannels { xp[t * inChannels + i] = 0 }
      }
      let filter = Tensor.normal([kernel, inChannels, outChannels], using: &rng).scalars
      let bias = Tensor.normal([outChannels], using: &rng).scalars
      var expected = [Double](repeating: 0, count: length * outChannels)
      for t in 0..<length {
        for o in 0..<outChannels {
          var total = Double(bias[o])
          for j in 0..<kernel {
            for i in 0..<inChannels {
              total +=
                Double(xp[(t + j) * inChannels + i])
                * Double(filter[(j * inChannels + i) * outChannels + o])
            }
          }
          expected[t * outChannels + o] = Swift.max(0, total)
        }
      }
      var pooled = [Double](repeating: 0, count: length / 2 * outChannels)
      for t in 0..<length / 2 {
        for o in 0..<outChannels {
          pooled[t * outChannels + o] = Swift.max(
            expected[2 * t * outChannels + o], expected[(2 * t + 1) * outChannels + o])
        }
      }
      var sums = [Double](repeating: 0, count: outChannels)
      for t in 0..<length { for o in 0..<outChannels { sums[o] += expected[t * outChannels + o] } }
      for variant in [KernelVariant.generic, .avx2FMA, .avx512F] where variant.isSupported {
        KernelConfiguration.with(variant: variant) {
          var y = [Float](repeating: .nan, count: length * outChannels)
          var p = [Float](repeating: .nan, count: length / 2 * outChannels)
          var s = [Float](repeating: 0, count: outChannels)
          func run(_ output: BufferKernels.WindowOutput, _ buffer: inout [Float]) {
            BufferKernels.windowConv1D(
              xp, length: length, inChannels: inChannels, filter: filter, kernelSize: kernel,
              outChannels: outChannels, bias: bias, relu: true, output: output, into: &buffer)
          }
          run(.store(rowStride: outChannels), &y)
          run(.pool2(rowStride: outChannels), &p)
          run(.sum, &s)
          let tolerance = 1e-5 * Double(kernel * inChannels + 1)
          let label = "\(shape) length \(length) \(variant)"
          #expect(zip(expected, y).allSatisfy { abs($0 - Double($1)) <= tolerance }, "\(label)")
          #expect(zip(pooled, p).allSatisfy { abs($0 - Double($1)) <= tolerance }, "\(label)")
          #expect(
            zip(sums, s).allSatisfy { abs($0 - Double($1)) <= tolerance * Double(length) },
            "\(label)")
        }
      }
    }
  }

  /// Winograd's window convolution against double-precision direct sums, for the students'
  /// shapes and channel counts off the vector width, in every output mode.
  @Test(arguments: [(9, 16), (16, 32), (8, 17), (20, 64), (33, 40)])
  func winogradAgainstDirectSums(_ shape: (Int, Int)) {
    let (inChannels, outChannels) = shape
    var rng = SplitMix64(seed: UInt64(inChannels * 1_000 + outChannels))
    for length in [4, 8, 64, 128] {
      let rows = length + 4
      var xp = Tensor.normal([rows, inChannels], using: &rng).scalars
      for t in [0, 1, rows - 2, rows - 1] {
        for i in 0..<inChannels { xp[t * inChannels + i] = 0 }
      }
      let filter = Tensor.normal([5, inChannels, outChannels], using: &rng).scalars
      let bias = Tensor.normal([outChannels], using: &rng).scalars
      var activated = [Double](repeating: 0, count: length * outChannels)
      var magnitude = 1.0
      for t in 0..<length {
        for o in 0..<outChannels {
          var total = Double(bias[o])
          var size = abs(Double(bias[o]))
          for j in 0..<5 {
            for i in 0..<inChannels {
              let term =
                Double(xp[(t + j) * inChannels + i])
                * Double(filter[(j * inChannels + i) * outChannels + o])
              total += term
              size += abs(term)
            }
          }
          activated[t * outChannels + o] = Swift.max(0, total)
          magnitude = Swift.max(magnitude, size)
        }
      }
      let pooled = (0..<length / 2 * outChannels).map { e in
        let (t, o) = (e / outChannels, e % outChannels)
        return Swift.max(
          activated[2 * t * outChannels + o], activated[(2 * t + 1) * outChannels + o])
      }
      let sums = (0..<outChannels).map { o in
        (0..<length).reduce(0.0) { $0 + activated[$1 * outChannels + o] }
      }
      for variant in [KernelVariant.generic, .avx2FMA, .avx512F] where variant.isSupported {
        KernelConfiguration.with(variant: variant) {
          var u = [Float](repeating: 0, count: 8 * inChannels * outChannels)
          BufferKernels.winogradFilter(
            filter, inChannels: inChannels, outChannels: outChannels, into: &u)
          var work = [Float](
            repeating: .nan,
            count: BufferKernels.windowWinogradWorkCount(
              length: length, inChannels: inChannels, outChannels: outChannels))
          var y = [Float](repeating: .nan, count: length * outChannels)
          var p = [Float](repeating: .nan, count: length / 2 * outChannels)
          var s = [Float](repeating: 0, count: outChannels)
          for (output, target) in [
            (BufferKernels.WindowOutput.store(rowStride: outChannels), 0),
            (.pool2(rowStride: outChannels), 1), (.sum, 2),
          ] {
            func run(_ buffer: inout [Float]) {
              BufferKernels.windowConv1DWinograd(
                xp, length: length, inChannels: inChannels, transformedFilter: u,
                outChannels: outChannels, bias: bias, relu: true, output: output, into: &buffer,
                work: &work)
            }
            if target == 0 { run(&y) } else if target == 1 { run(&p) } else { run(&s) }
          }
          // F(4, 5)'s rounding: a few units in the last place of the largest term's magnitude.
          let tolerance = 1e-6 * magnitude
          let label = "\(shape) length \(length) \(variant)"
          #expect(zip(activated, y).allSatisfy { abs($0 - Double($1)) <= tolerance }, "\(label)")
          #expect(zip(pooled, p).allSatisfy { abs($0 - Double($1)) <= tolerance }, "\(label)")
          #expect(
            zip(sums, s).allSatisfy { abs($0 - Double($1)) <= tolerance * Double(length) },
            "\(label)")
        }
      }
    }
  }

  /// CBAM followed by the mean over time in one pass equals CBAM's kernel followed by the mean.
  @Test(arguments: [(64, 32, 8, 7), (5, 3, 1, 3), (17, 49, 7, 5)])
  func cbamMeanEqualsCBAMThenTheMean(_ shape: (Int, Int, Int, Int)) {
    let (time, channels, width, kernel) = shape
    var rng = SplitMix64(seed: UInt64(time * channels))
    let x = Tensor.normal([1, time, channels], using: &rng)
    let hidden = Tensor.normal([channels, width], using: &rng)
    let output = Tensor.normal([width, channels], using: &rng)
    let spatial = Tensor.normal([kernel, 2, 1], using: &rng)
    let (attended, _, _) = x.cbamForInference(
      hidden: hidden, output: output, spatialFilter: spatial)
    let expected = attended.mean(alongAxis: 1).scalars
    for variant in [KernelVariant.generic, .avx2FMA, .avx512F] where variant.isSupported {
      KernelConfiguration.with(variant: variant) {
        var y = [Float](repeating: .nan, count: channels)
        var work = [Float](
          repeating: .nan,
          count: BufferKernels.windowCBAMMeanWorkCount(
            time: time, channels: channels, width: width, spatialKernel: kernel))
        BufferKernels.windowCBAMMean(
          x.scalars, time: time, channels: channels, hidden: hidden.scalars, width: width,
          output: output.scalars, spatialFilter: spatial.scalars, spatialKernel: kernel,
          into: &y, work: &work)
        #expect(worstDifference(expected, y) <= 1e-6, "\(shape) \(variant)")
      }
    }
  }
}
