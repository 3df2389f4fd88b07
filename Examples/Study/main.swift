// The study: every configuration of DESIGN §6 trained on one data set, compared in one table.
//
// The Layers, Distillation and study issues make this real; until they land, `study` says what
// the package can already do and exits with status 0 so that the README's first command is true.
import HARDistill

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("-h") || arguments.contains("--help") {
  print("usage: study [--smoke]\n  Runs the HARDistill study (not yet available: see README).")
} else {
  // A forward and backward pass through the Tensor core, so the smoke run exercises real code.
  var generator = SplitMix64(seed: 0)
  let input = Tensor.normal([4, 128, 9], using: &generator)
  let filter = Tensor.glorotUniform([5, 9, 16], using: &generator)
  let (loss, gradients) = valueWithGradients(at: [filter]) { parameters in
    let features = input.conv1D(filter: parameters[0], padding: .same).relu().mean(alongAxis: 1)
    return softmaxCrossEntropy(logits: features, labels: [0, 1, 2, 3])
  }
  print(
    """
    HARDistill study: the five-configuration comparison is not implemented yet.
    Available now: the Tensor core (tensors, tape autodiff, \(Tape.Operation.allCases.count) \
    differentiable ops with gradient checks).
    Tensor core check: conv1D → relu → mean → cross-entropy on a [4, 128, 9] batch, \
    loss \(loss.scalar), filter gradient norm \
    \((gradients[0] * gradients[0]).sum().scalar.squareRoot()).
    """)
}
