import Tensor
import TestSupport
import Testing

/// Forward values of every op against numbers worked out by hand (shown in the comments).
@Suite("Forward values")
struct ForwardValueTests {
  let m = try! Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])

  @Test func broadcastArithmetic() throws {
    let row = Tensor([10, 20, 30])
    #expect((m + row).scalars == [11, 22, 33, 14, 25, 36])
    #expect((m - row).scalars == [-9, -18, -27, -6, -15, -24])
    #expect((m * 2).scalars == [2, 4, 6, 8, 10, 12])
    #expect((m / Tensor([2, 4, 8])).scalars == [0.5, 0.5, 0.375, 2, 1.25, 0.75])
    #expect((1 - m).scalars == [0, -1, -2, -3, -4, -5])
    // [2, 1] ⊕ [1, 3] → [2, 3]: an outer sum.
    let column = try Tensor(shape: [2, 1], scalars: [100, 200])
    let outer = column + (try Tensor(shape: [1, 3], scalars: [1, 2, 3]))
    #expect(outer.shape == [2, 3])
    #expect(outer.scalars == [101, 102, 103, 201, 202, 203])
    // [2, 1, 3] ⊕ [4, 1] → [2, 4, 3].
    var rng = SplitMix64(seed: 7)
    let a = Tensor.uniform([2, 1, 3], in: 0...1, using: &rng)
    let b = Tensor.uniform([4, 1], in: 0...1, using: &rng)
    let sum = a + b
    #expect(sum.shape == [2, 4, 3])
    #expect(sum[1, 2, 0] == a[1, 0, 0] + b[2, 0])
  }

  @Test func unaryFunctions() {
    let x = Tensor([-2, 0, 0.5, 3])
    #expect(isClose(x.relu(), [0, 0, 0.5, 3], shape: [4]))
    #expect(Tensor([.nan]).relu().scalars[0].isNaN)  // NaN propagates, as in PyTorch
    #expect(isClose(-x, [2, 0, -0.5, -3], shape: [4]))
    // e^-2 = 0.135335, e^0 = 1, e^0.5 = 1.648721, e^3 = 20.085537.
    #expect(isClose(x.exp(), [0.135335, 1, 1.648721, 20.085537], shape: [4], tolerance: 1e-5))
    // σ(−2) = 0.119203, σ(0) = 0.5, σ(0.5) = 0.622459, σ(3) = 0.952574.
    #expect(isClose(x.sigmoid(), [0.119203, 0.5, 0.622459, 0.952574], shape: [4], tolerance: 1e-6))
    // tanh(−2) = −0.964028, tanh(0.5) = 0.462117, tanh(3) = 0.995055.
    #expect(isClose(x.tanh(), [-0.964028, 0, 0.462117, 0.995055], shape: [4], tolerance: 1e-6))
    let p = Tensor([1, 4, 0.25])
    #expect(isClose(p.log(), [0, 1.386294, -1.386294], shape: [3], tolerance: 1e-6))
    #expect(isClose(p.sqrt(), [1, 2, 0.5], shape: [3]))
    #expect(isClose(p.pow(1.5), [1, 8, 0.125], shape: [3]))
    #expect(isClose(Tensor([-3]).squared(), [9], shape: [1]))
    // The sigmoid stays finite where 1 + e^−x would overflow.
    #expect(Tensor([-200, 200]).sigmoid().scalars == [0, 1])
  }

  @Test func reductions() {
    // m = [[1, 2, 3], [4, 5, 6]]
    #expect(m.sum().shape == [])
    #expect(m.sum().scalar == 21)
    #expect(m.sum(alongAxis: 0).scalars == [5, 7, 9])
    #expect(m.sum(alongAxis: 1, keepingDimensions: true).shape == [2, 1])
    #expect(m.sum(alongAxis: -1).scalars == [6, 15])
    #expect(m.mean(alongAxis: 0).scalars == [2.5, 3.5, 4.5])
    #expect(m.mean().scalar == 3.5)
    #expect(m.max(alongAxis: 1).scalars == [3, 6])
    #expect(m.max(alongAxes: [0, 1], keepingDimensions: true).shape == [1, 1])
    #expect(m.max().scalar == 6)
    var rng = SplitMix64(seed: 7)
    let t = Tensor.uniform([2, 3, 4], in: -1...1, using: &rng)
    let s = t.sum(alongAxes: [0, 2])
    #expect(s.shape == [3])
    var expected: Float = 0
    for b in 0..<2 { for c in 0..<4 { expected += t[b, 1, c] } }
    #expect(abs(s[1] - expected) < 1e-6)
    #expect(
      try! Tensor(shape: [2, 3], scalars: [0.1, 0.9, 0.3, 5, 1, 2]).argmaxAlongLastAxis() == [1, 0])
  }

  @Test func matrixProducts() throws {
    // [[1, 2, 3], [4, 5, 6]] · [[1, 0], [0, 1], [1, 1]] = [[4, 5], [10, 11]]
    let b = try Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
    #expect(m.matmul(b).scalars == [4, 5, 10, 11])
    // Batched with a broadcast right operand: each batch matrix times the same b.
    let batch = Tensor.concatenating(
      [m.expandingShape(at: 0), (m * 2).expandingShape(at: 0)], alongAxis: 0)
    let product = batch.matmul(b)
    #expect(product.shape == [2, 2, 2])
    #expect(product.scalars == [4, 5, 10, 11, 8, 10, 20, 22])
  }

  @Test func layoutOps() throws {
    #expect(m.transposed().shape == [3, 2])
    #expect(m.transposed().scalars == [1, 4, 2, 5, 3, 6])
    let t = try Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
    let p = t.transposed(permutation: [2, 0, 1])
    #expect(p.shape == [2, 2, 3])
    #expect(p[1, 0, 2] == t[0, 2, 1])
    #expect(m.reshaped(to: [3, -1]).shape == [3, 2])
    #expect(m.reshaped(to: [-1]).scalars == m.scalars)
    #expect(m.sliced(alongAxis: 1, range: 1..<3).scalars == [2, 3, 5, 6])
    #expect(m.sliced(alongAxis: 0, range: 1..<2).scalars == [4, 5, 6])
    let padded = m.padded(alongAxis: 1, before: 1, after: 2, value: -1)
    #expect(padded.shape == [2, 6])
    #expect(padded.scalars == [-1, 1, 2, 3, -1, -1, -1, 4, 5, 6, -1, -1])
    let joined = Tensor.concatenating([m, Tensor(repeating: 9, shape: [2, 1])], alongAxis: 1)
    #expect(joined.scalars == [1, 2, 3, 9, 4, 5, 6, 9])
    #expect(m.expandingShape(at: -1).shape == [2, 3, 1])
    #expect(m.expandingShape(at: 0).squeezingShape(at: 0).shape == [2, 3])
  }

  @Test func softmaxFamily() {
    // softmax([1, 2, 3]) = e^(x − 3) / Σ = [0.090031, 0.244728, 0.665241].
    let z = Tensor([1, 2, 3]).reshaped(to: [1, 3])
    #expect(isClose(z.softmax(), [0.090031, 0.244728, 0.665241], shape: [1, 3], tolerance: 1e-6))
    // log-softmax = x − log Σ e^x = x − 3.407606.
    #expect(
      isClose(z.logSoftmax(), [-2.407606, -1.407606, -0.407606], shape: [1, 3], tolerance: 1e-5))
    // Along axis 0 of m: columns [1, 4] → [0.047426, 0.952574].
    let s = m.softmax(alongAxis: 0)
    #expect(
      isClose(
        s.sliced(alongAxis: 1, range: 0..<1), [0.047426, 0.952574], shape: [2, 1], tolerance: 1e-6))
    // Large logits do not overflow.
    #expect(
      isClose(Tensor([1000, 1000]).reshaped(to: [1, 2]).softmax(), [0.5, 0.5], shape: [1, 2]))
    // CE: row 0 label 2 → 0.407606; row 1 [0, 0, 0] label 0 → log 3 = 1.098612. Mean 0.753109.
    let logits = Tensor.concatenating([z, Tensor(zeros: [1, 3])], alongAxis: 0)
    let loss = softmaxCrossEntropy(logits: logits, labels: [2, 0])
    #expect(loss.shape == [])
    #expect(abs(loss.scalar - 0.753109) < 1e-5)
    // A confident wrong prediction keeps its large, finite loss: 200 − 0 + log(1 + e^−200) ≈ 200.
    let wrong = softmaxCrossEntropy(logits: Tensor([200, 0]).reshaped(to: [1, 2]), labels: [1])
    #expect(abs(wrong.scalar - 200) < 1e-3)
  }

  @Test func convolutionByHand() throws {
    // One channel in, one out, kernel [1, 2, 3], input [1, 2, 3, 4], bias 10, `same` (pad 1 each
    // side): y[t] = 10 + x[t−1] + 2x[t] + 3x[t+1] → [10+0+2+6, 10+1+4+9, 10+2+6+12, 10+3+8+0].
    let x = try Tensor(shape: [1, 4, 1], scalars: [1, 2, 3, 4])
    let w = try Tensor(shape: [3, 1, 1], scalars: [1, 2, 3])
    let same = x.conv1D(filter: w, bias: Tensor([10]), padding: .same)
    #expect(same.shape == [1, 4, 1])
    #expect(same.scalars == [18, 24, 30, 21])
    // `valid`: only the two full windows, no bias: [1+4+9, 2+6+12].
    #expect(x.conv1D(filter: w).scalars == [14, 20])
    // Stride 2, `same`: output ceil(4/2) = 2 steps; total pad (2−1)·2 + 3 − 4 = 1 → 0 before, 1
    // after (Keras puts the odd one after): y[0] = x0 + 2x1 + 3x2 = 14, y[1] = x2 + 2x3 + 0 = 11.
    #expect(x.conv1D(filter: w, stride: 2, padding: .same).scalars == [14, 11])
    // Dilation 2, `valid`: taps t, t+2, t+4 need 5 steps: no room in 4 → checked in errors; on 6:
    let x6 = try Tensor(shape: [1, 6, 1], scalars: [1, 2, 3, 4, 5, 6])
    // [1 + 6 + 15, 2 + 8 + 18]
    #expect(x6.conv1D(filter: w, dilation: 2).scalars == [22, 28])
    // Two input channels mix: channel 1 weighted by 10.
    let x2 = try Tensor(shape: [1, 2, 2], scalars: [1, 2, 3, 4])
    let w2 = try Tensor(shape: [1, 2, 1], scalars: [1, 10])
    #expect(x2.conv1D(filter: w2).scalars == [21, 43])
  }

  @Test func pooling() throws {
    let x = try Tensor(shape: [1, 5, 2], scalars: [1, -1, 5, -2, 3, -3, 2, -4, 4, -5])
    // Channel 0 over time: [1, 5, 3, 2, 4]; channel 1: [−1, −2, −3, −4, −5].
    let maxValid = x.maxPool1D(kernelSize: 2)
    #expect(maxValid.shape == [1, 2, 2])
    #expect(maxValid.scalars == [5, -1, 3, -3])
    // `same` with stride 2: ceil(5/2) = 3 windows, no padding needed before: [0,1], [2,3], [4].
    #expect(x.maxPool1D(kernelSize: 2, padding: .same).scalars == [5, -1, 3, -3, 4, -5])
    #expect(x.avgPool1D(kernelSize: 2).scalars == [3, -1.5, 2.5, -3.5])
    // The last `same` window holds one real step and is averaged over 1, not 2.
    #expect(x.avgPool1D(kernelSize: 2, padding: .same).scalars == [3, -1.5, 2.5, -3.5, 4, -5])
    // Overlapping windows, stride 1.
    #expect(x.maxPool1D(kernelSize: 3, stride: 1).scalars == [5, -1, 5, -2, 4, -3])
  }
}
