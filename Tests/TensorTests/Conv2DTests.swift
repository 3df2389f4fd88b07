import Tensor
import TestSupport
import Testing

/// `conv2D`: hand-computed values, its shape rule, and agreement with `conv1D`, with the direct
/// reference loops, and across thread counts.
@Suite("Conv2D")
struct Conv2DTests {
  @Test func validKernelOverTimeByHand() throws {
    // x (h = 3, w = 2) = [[1, 2], [3, 4], [5, 6]]; filter (2×1) = [1, 10]; bias 0.5:
    // y[r, c] = x[r, c] + 10·x[r + 1, c] + 0.5 = [[31.5, 42.5], [53.5, 64.5]].
    let x = try Tensor(shape: [1, 3, 2, 1], scalars: [1, 2, 3, 4, 5, 6])
    let filter = try Tensor(shape: [2, 1, 1, 1], scalars: [1, 10])
    let y = x.conv2D(filter: filter, bias: Tensor([0.5]), padding: .valid)
    #expect(isClose(y, [31.5, 42.5, 53.5, 64.5], shape: [1, 2, 2, 1]))
  }

  @Test func samePaddingByHand() throws {
    let x = try Tensor(shape: [1, 2, 2, 1], scalars: [1, 2, 3, 4])
    // A 3×3 window of ones centred anywhere on a 2×2 input covers all of it: 1+2+3+4 = 10.
    let odd = x.conv2D(filter: Tensor(ones: [3, 3, 1, 1]), padding: .same)
    #expect(isClose(odd, [10, 10, 10, 10], shape: [1, 2, 2, 1]))
    // A 2×2 window pads after (Keras): y[0,0] = 1+2+3+4, y[0,1] = 2+4, y[1,0] = 3+4, y[1,1] = 4.
    let even = x.conv2D(filter: Tensor(ones: [2, 2, 1, 1]), padding: .same)
    #expect(isClose(even, [10, 6, 7, 4], shape: [1, 2, 2, 1]))
    // Two input channels, two filters: channel sums and differences per position.
    let pair = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 5])
    let mix = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 1, 1, -1])
    #expect(isClose(pair.conv2D(filter: mix), [3, -1, 8, -2], shape: [1, 1, 2, 2]))
  }

  @Test func shapeRule() throws {
    #expect(
      try Tensor.conv2DShape(
        input: [8, 30, 113, 1], filter: [5, 1, 1, 64], bias: [64], padding: .valid)
        == [8, 26, 113, 64])
    #expect(
      try Tensor.conv2DShape(
        input: [8, 26, 113, 2], filter: [7, 7, 2, 1], bias: nil, padding: .same)
        == [8, 26, 113, 1])
    #expect(
      throws: ShapeError.incompatible(
        operation: "conv2D", lhs: [2, 4, 3, 2], rhs: [3, 1, 3, 4],
        rule: "[batch, h, w, c] ⊛ [kh, kw, c, out]")
    ) {
      try Tensor.conv2DShape(input: [2, 4, 3, 2], filter: [3, 1, 3, 4], bias: nil, padding: .same)
    }
    #expect(
      throws: ShapeError.incompatible(
        operation: "conv2D", lhs: [2, 4, 3, 2], rhs: [5, 1, 2, 4],
        rule: "h ≥ kh and w ≥ kw with valid padding")
    ) {
      try Tensor.conv2DShape(
        input: [2, 4, 3, 2], filter: [5, 1, 2, 4], bias: nil, padding: .valid)
    }
    #expect(
      throws: ShapeError.incompatible(
        operation: "conv2D", lhs: [5, 1, 2, 4], rhs: [3], rule: "bias [out]")
    ) {
      try Tensor.conv2DShape(
        input: [2, 9, 3, 2], filter: [5, 1, 2, 4], bias: [3], padding: .valid)
    }
  }

  /// A (k×1) Conv2D over `[batch, time, sensors, c]` is a Conv1D over time applied to each sensor
  /// with the same weights: the DeepConvLSTM reading.
  @Test(arguments: [Padding.valid, .same])
  func kernelOverTimeEqualsConv1DPerSensor(_ padding: Padding) {
    var rng = SplitMix64(seed: 3)
    let x = Tensor.uniform([2, 9, 3, 2], in: -1...1, using: &rng)
    let filter = Tensor.uniform([5, 1, 2, 4], in: -1...1, using: &rng)
    let bias = Tensor.uniform([4], in: -1...1, using: &rng)
    let y = x.conv2D(filter: filter, bias: bias, padding: padding)
    let perSensor = x.transposed(permutation: [0, 2, 1, 3]).reshaped(to: [6, 9, 2])
      .conv1D(filter: filter.reshaped(to: [5, 2, 4]), bias: bias, padding: padding)
    let time = perSensor.shape[1]
    let expected = perSensor.reshaped(to: [2, 3, time, 4]).transposed(permutation: [0, 2, 1, 3])
    #expect(y.shape == expected.shape)
    #expect(y.isClose(to: expected, tolerance: 1e-5))
  }

  /// Large enough (≥ 4 MFLOP) to split the batch over two workers: forward equals the direct
  /// reference, and gradients do not depend on the thread count.
  @Test func fastKernelMatchesReferenceOnTwoThreads() {
    var rng = SplitMix64(seed: 5)
    let x = Tensor.uniform([8, 24, 20, 16], in: -1...1, using: &rng)
    let filter = Tensor.uniform([5, 1, 16, 16], in: -0.5...0.5, using: &rng)
    let bias = Tensor.uniform([16], in: -1...1, using: &rng)
    let expected = x.referenceConv2D(filter: filter, bias: bias, padding: .same)
    func run(threads: Int) -> (Tensor, [Tensor]) {
      KernelConfiguration.with(threadCount: threads) {
        let y = x.conv2D(filter: filter, bias: bias, padding: .same)
        let (_, grads) = valueWithGradients(at: [x, filter, bias]) { v in
          (v[0].conv2D(filter: v[1], bias: v[2], padding: .same) * y).sum()
        }
        return (y, grads)
      }
    }
    let (one, gradsOne) = run(threads: 1)
    let (two, gradsTwo) = run(threads: 2)
    #expect(one.isClose(to: expected, tolerance: 1e-4))
    #expect(two.isClose(to: expected, tolerance: 1e-4))
    // Partial sums per worker change rounding only: compare relative to the largest entry.
    for (a, b) in zip(gradsOne, gradsTwo) {
      let scale = a.scalars.map(abs).max() ?? 1
      #expect(a.isClose(to: b, tolerance: 1e-5 * Swift.max(1, scale)))
    }
  }
}
