import Layers
import Tensor
import TestSupport
import Testing

@Suite("Training")
struct ModelTrainingTests {
  @Test func lmLearnsWithAdam() {
    let (x, y) = sineWindows(count: 384, length: 128, channels: 3, classes: 4, seed: 1)
    let (testX, testY) = sineWindows(count: 200, length: 128, channels: 3, classes: 4, seed: 2)
    var rng = SplitMix64(seed: 7)
    var model = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &rng)
    var optimizer = Adam(learningRate: 3e-3)
    var firstLoss: Float = 0
    var lastLoss: Float = 0
    for epoch in 0..<40 {
      var epochLoss: Float = 0
      for start in stride(from: 0, to: 384, by: 32) {
        let batch = x.sliced(alongAxis: 0, range: start..<(start + 32))
        let labels = Array(y[start..<(start + 32)])
        let (loss, gradients) = valueWithGradients(of: model) { m in
          var context = ForwardContext(isTraining: true)
          return softmaxCrossEntropy(logits: m.forward(batch, context: &context), labels: labels)
        }
        optimizer.update(&model, along: gradients)
        epochLoss += loss / 12
      }
      if epoch == 0 { firstLoss = epochLoss }
      lastLoss = epochLoss
    }
    let predictions = model.predict(testX).argmaxAlongLastAxis()
    let accuracy = Float(zip(predictions, testY).filter { $0 == $1 }.count) / Float(testY.count)
    // Chance is 25 %. Measured when this test was written: 0.87 held-out accuracy, training loss
    // 1.41 → 0.40 (384 windows are few; the model starts to overfit).
    #expect(accuracy >= 0.8, "held-out accuracy \(accuracy), loss \(firstLoss) → \(lastLoss)")
    #expect(lastLoss < firstLoss / 2)
  }
}
