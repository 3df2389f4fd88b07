import Layers
import Tensor
import TestSupport
import Testing

/// One parameter named "weight", to watch optimizer arithmetic by hand.
struct Scalar: Layer {
  var weight: Tensor
  func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input * weight }
  func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
  func forwardFLOPs(for inputShape: [Int]) -> Int { 0 }
  mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("weight", &weight)
  }
}

@Suite("Optimizers")
struct OptimizerTests {
  let gradient = Gradients(byName: ["weight": Tensor([0.5, -2])])

  @Test func sgdSteps() {
    var model = Scalar(weight: Tensor([1, 1]))
    var plain = SGD(learningRate: 0.1)
    plain.update(&model, along: gradient)
    #expect(isClose(model.weight, [0.95, 1.2], shape: [2]))
    // Momentum 0.9: v1 = −0.1g, v2 = 0.9·v1 − 0.1g = −0.19g; p = 1 + v1 + v2 = 1 − 0.29g.
    model = Scalar(weight: Tensor([1, 1]))
    var momentum = SGD(learningRate: 0.1, momentum: 0.9)
    momentum.update(&model, along: gradient)
    momentum.update(&model, along: gradient)
    #expect(isClose(model.weight, [1 - 0.145, 1 + 0.58], shape: [2], tolerance: 1e-6))
    // Nesterov: p += μ·v − lr·g: step 1: v = −0.1g → p = 1 − 0.09g − 0.1g = 1 − 0.19g.
    model = Scalar(weight: Tensor([1, 1]))
    var nesterov = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
    nesterov.update(&model, along: gradient)
    #expect(isClose(model.weight, [1 - 0.095, 1 + 0.38], shape: [2], tolerance: 1e-6))
  }

  @Test func adamFirstStepsByHand() {
    // Step 1: m = 0.1g, v = 0.001g², α₁ = lr·√0.001/0.1, so the step is
    // lr·0.1g/√(0.001g²)·√0.001/0.1 = lr·sign(g) (ε aside).
    var model = Scalar(weight: Tensor([1, 1]))
    var adam = Adam(learningRate: 0.01)
    adam.update(&model, along: gradient)
    #expect(isClose(model.weight, [0.99, 1.01], shape: [2], tolerance: 1e-6))
    #expect(adam.step == 1)
    // Step 2 with the same gradient: again lr·sign(g) (m/√v is unchanged for a constant g).
    adam.update(&model, along: gradient)
    #expect(isClose(model.weight, [0.98, 1.02], shape: [2], tolerance: 1e-6))
    // AdamW also shrinks the weight by lr·λ·p before the Adam step: 1 − 0.01·0.1·1 − 0.01.
    var decayed = Scalar(weight: Tensor([1, 1]))
    var adamW = Adam.adamW(learningRate: 0.01, weightDecay: 0.1)
    adamW.update(&decayed, along: gradient)
    #expect(isClose(decayed.weight, [0.989, 1.009], shape: [2], tolerance: 1e-6))
  }

  @Test func adamStateRoundTrips() throws {
    var model = Scalar(weight: Tensor([1, 1]))
    var adam = Adam()
    adam.update(&model, along: gradient)
    var restored = Adam()
    try restored.restore(state: adam.state)
    var a = model
    var b = model
    adam.update(&a, along: gradient)
    restored.update(&b, along: gradient)
    #expect(a.weight.scalars == b.weight.scalars)
    #expect(throws: CheckpointError.missingName("adam.step")) { try restored.restore(state: [:]) }
  }

  @Test func clippingByGlobalNorm() {
    // ‖[3, 4]‖ = 5 → scaled to norm 1: [0.6, 0.8]; a norm already below the limit is unchanged.
    let g = Gradients(byName: ["a": Tensor([3]), "b": Tensor([4])])
    #expect(g.globalNorm == 5)
    let clipped = g.clippedByGlobalNorm(1)
    #expect(isClose(clipped["a"]!, [0.6], shape: [1]))
    #expect(isClose(clipped["b"]!, [0.8], shape: [1]))
    #expect(g.clippedByGlobalNorm(10)["a"]!.scalars == [3])
    #expect(!Gradients(byName: ["a": Tensor([.nan])]).isFinite)
  }

  @Test func schedules() {
    #expect(LearningRateSchedule.constant(0.1).rate(at: 50) == 0.1)
    let step = LearningRateSchedule.stepDecay(initial: 1, factor: 0.5, every: 10)
    #expect(step.rate(at: 9) == 1)
    #expect(step.rate(at: 10) == 0.5)
    #expect(step.rate(at: 25) == 0.25)
    let cosine = LearningRateSchedule.cosine(initial: 1, total: 100, minimum: 0)
    #expect(cosine.rate(at: 0) == 1)
    #expect(abs(cosine.rate(at: 50) - 0.5) < 1e-6)
    #expect(cosine.rate(at: 100) == 0)
  }
}
