import Tensor
import TestSupport
import Testing

/// Fake quantization's forward values, worked out by hand, and its straight-through gradient.
/// (Its backward is also checked over the full Jacobian against the clamp it claims, in
/// `GradientCase.all`.)
@Suite("Fake quantization")
struct FakeQuantizationTests {
  @Test func roundsToTheGridAndClipsAtPlusMinus127Steps() {
    // Scale 0.1: x / 0.1 = 0.4 → 0, 0.5 → 1 (ties away from zero), −0.5 → −1, 1.26 → 1,
    // 12.7 → 127, 200 → 127 (clipped), −200 → −127.
    let x = Tensor([0.04, 0.05, -0.05, 0.126, 12.7, 20, -20])
    #expect(
      isClose(x.fakeQuantized(scale: 0.1), [0, 0.1, -0.1, 0.1, 12.7, 12.7, -12.7], shape: [7]))
  }

  @Test func perChannelScalesFollowTheLastAxis() throws {
    // Columns with scales 1 and 0.5: 2.4 → 2, 2.4 → 2.5; 300 → 127, −300 → −63.5.
    let x = try Tensor(shape: [2, 2], scalars: [2.4, 2.4, 300, -300])
    let y = x.fakeQuantized(scales: [1, 0.5])
    #expect(y.shape == [2, 2])
    #expect(y.scalars == [2, 2.5, 127, -63.5])
  }

  @Test func gradientPassesInsideTheRangeAndStopsOutside() {
    // Range ±12.7: the gradient of sum(3·y) is 3 for the first three, 0 for the clipped two.
    let tape = Tape()
    let x = tape.variable(Tensor([0.04, -5, 12.7, 12.8, -13]))
    let loss = (x.fakeQuantized(scale: 0.1) * 3).sum()
    let gradient = tape.gradients(of: loss, wrt: [x])[0]
    #expect(gradient.scalars == [3, 3, 3, 0, 0])
  }

  @Test func inferenceRecordsNothing() {
    let tape = Tape()
    _ = Tensor([1, 2]).fakeQuantized(scale: 0.5)
    #expect(tape.operationCount == 0)
  }
}
