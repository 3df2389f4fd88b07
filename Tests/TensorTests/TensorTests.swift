import Tensor
import TestSupport
import Testing

@Suite("Tensor basics")
struct TensorBasicsTests {
  @Test func creationAndAccess() throws {
    let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(t.rank == 2)
    #expect(t.scalarCount == 6)
    #expect(t[1, 2] == 6)
    #expect(t[0, 1] == 2)
    #expect(Tensor(zeros: [2, 2]).scalars == [0, 0, 0, 0])
    #expect(Tensor(ones: [3]).scalars == [1, 1, 1])
    #expect(Tensor(2.5).shape == [])
    #expect(Tensor(2.5).scalar == 2.5)
    #expect(try Tensor(rows: [[1, 2], [3, 4]]).scalars == [1, 2, 3, 4])
  }

  @Test func valueSemantics() throws {
    let a = try Tensor(shape: [2], scalars: [1, 2])
    var b = a
    b[0] = 10
    #expect(a.scalars == [1, 2])
    #expect(b.scalars == [10, 2])
  }

  @Test func descriptionShowsShapeAndValues() throws {
    let t = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
    #expect(t.description == "Tensor([2, 2]) [[1.0, 2.0], [3.0, 4.0]]")
    #expect(Tensor(zeros: [20]).description.contains("…"))
    let tape = Tape()
    #expect(tape.variable(t).description.hasPrefix("Tensor([2, 2], tracked)"))
  }

  @Test func seededRandomIsReproducible() {
    var g1 = SplitMix64(seed: 1)
    var g2 = SplitMix64(seed: 1)
    var g3 = SplitMix64(seed: 2)
    let a = Tensor.glorotUniform([5, 9, 16], using: &g1)
    #expect(a.scalars == Tensor.glorotUniform([5, 9, 16], using: &g2).scalars)
    #expect(a.scalars != Tensor.glorotUniform([5, 9, 16], using: &g3).scalars)
    // Keras fans for a conv filter [5, 9, 16]: in 45, out 80 → limit √(6/125) = 0.219089.
    let limit: Float = (6.0 / 125.0).squareRoot()
    #expect(a.scalars.allSatisfy { abs($0) <= limit })
    #expect(a.scalars.max()! > 0.9 * limit)
    // SplitMix64's first outputs for seed 0 (reference values of the published algorithm).
    var zero = SplitMix64(seed: 0)
    #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
    #expect(zero.next() == 0x6E78_9E6A_A1B9_65F4)
  }

  @Test func normalAndHeHaveTheirMoments() {
    var g = SplitMix64(seed: 3)
    let n = Tensor.normal([20_000], mean: 1, standardDeviation: 2, using: &g)
    let mean = n.mean().scalar
    let variance = (n - mean).squared().mean().scalar
    #expect(abs(mean - 1) < 0.05)
    #expect(abs(variance - 4) < 0.15)
    let he = Tensor.heNormal([200, 100], using: &g)
    let heVariance = he.squared().mean().scalar
    #expect(abs(heVariance - 2.0 / 200) < 0.001)
    let u = Tensor.heUniform([50, 10], using: &g)
    #expect(u.scalars.allSatisfy { abs($0) <= (6.0 / 50.0).squareRoot() })
  }
}

@Suite("Tape")
struct TapeTests {
  @Test func gradientsAccumulateOverSeveralUses() {
    // f(x) = Σ (x·x + 3x) → ∂f/∂x = 2x + 3.
    let (value, grads) = valueWithGradients(at: [Tensor([1, -2, 0.5])]) { x in
      (x[0] * x[0] + 3 * x[0]).sum()
    }
    // (1 + 3) + (4 − 6) + (0.25 + 1.5) = 3.75.
    #expect(value.scalar == 3.75)
    #expect(grads[0].scalars == [5, -1, 4])
  }

  @Test func unrelatedTargetGetsZeros() {
    let tape = Tape()
    let x = tape.variable(Tensor([1, 2]))
    let y = tape.variable(Tensor([3, 4, 5]))
    let grads = tape.gradients(of: x.sum(), wrt: [x, y])
    #expect(grads[0].scalars == [1, 1])
    #expect(grads[1].scalars == [0, 0, 0])
  }

  @Test func gradientWithRespectToAnIntermediate() {
    let tape = Tape()
    let x = tape.variable(Tensor([1, 2]))
    let h = x * 3
    let loss = (h * h).sum()
    let grads = tape.gradients(of: loss, wrt: [h, x])
    #expect(grads[0].scalars == [6, 12])  // 2h
    #expect(grads[1].scalars == [18, 36])  // 2h · 3
  }

  @Test func inferenceRecordsNothing() {
    let tape = Tape()
    let x = Tensor([1, 2, 3])
    let y = (x * 2 + 1).relu().sum()
    #expect(!y.isTracked)
    #expect(tape.operationCount == 0)
    let tracked = tape.variable(x)
    _ = (tracked * 2 + 1).relu().sum()
    #expect(tape.operationCount == 4)
    // Detached values leave the tape.
    _ = tracked.detached() * 2
    #expect(tape.operationCount == 4)
  }

  @Test func backwardPassesDoNotRecord() {
    let tape = Tape()
    let x = tape.variable(Tensor([0.5, -1]))
    let loss = x.sigmoid().sum()
    let before = tape.operationCount
    _ = tape.gradients(of: loss, wrt: [x])
    #expect(tape.operationCount == before)
  }
}

@Suite("Training")
struct TrainingTests {
  /// A 2-layer MLP trained with plain gradient descent on two separable Gaussian blobs.
  @Test func mlpLearnsASeparableProblem() {
    var rng = SplitMix64(seed: 11)
    let n = 64
    var points: [Float] = []
    var labels: [Int] = []
    for i in 0..<n {
      let label = i % 2
      let center: Float = label == 0 ? -1 : 1
      points += [
        center + 0.3 * Float(rng.nextGaussian()), -center + 0.3 * Float(rng.nextGaussian()),
      ]
      labels.append(label)
    }
    let x = try! Tensor(shape: [n, 2], scalars: points)
    var w1 = Tensor.glorotUniform([2, 8], using: &rng)
    var b1 = Tensor(zeros: [8])
    var w2 = Tensor.glorotUniform([8, 2], using: &rng)
    var b2 = Tensor(zeros: [2])
    func loss(_ p: [Tensor]) -> Tensor {
      softmaxCrossEntropy(
        logits: (x.matmul(p[0]) + p[1]).relu().matmul(p[2]) + p[3], labels: labels)
    }
    let initial = loss([w1, b1, w2, b2]).scalar
    var final = initial
    for _ in 0..<200 {
      let (value, g) = valueWithGradients(at: [w1, b1, w2, b2], of: loss)
      final = value.scalar
      w1 = w1 - 0.5 * g[0]
      b1 = b1 - 0.5 * g[1]
      w2 = w2 - 0.5 * g[2]
      b2 = b2 - 0.5 * g[3]
    }
    final = loss([w1, b1, w2, b2]).scalar
    #expect(initial > 0.5)
    #expect(final < 0.02, "loss went from \(initial) to \(final)")
    let predictions = ((x.matmul(w1) + b1).relu().matmul(w2) + b2).argmaxAlongLastAxis()
    #expect(predictions == labels)
  }
}

extension SplitMix64 {
  /// A standard normal sample for test data (Box–Muller in Double).
  mutating func nextGaussian() -> Double {
    let u1 = (Double(next() >> 11) + 1) / 9_007_199_254_740_993.0
    let u2 = Double(next() >> 11) / 9_007_199_254_740_992.0
    return (-2 * _log(u1)).squareRoot() * _cos(2 * .pi * u2)
  }
}

#if canImport(Glibc)
  import Glibc
  private func _log(_ x: Double) -> Double { Glibc.log(x) }
  private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
  import Darwin
  private func _log(_ x: Double) -> Double { Darwin.log(x) }
  private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
