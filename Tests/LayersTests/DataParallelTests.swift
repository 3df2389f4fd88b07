import Layers
import Tensor
import Testing

/// Data parallelism: a batch split into shards, differentiated by parallel workers, must give the
/// gradients of one pass over the whole batch.
@Suite("Data parallelism")
struct DataParallelTests {
  /// The teacher has dropout, so these inputs also check that shards draw the whole batch's masks.
  private let batch: (x: Tensor, labels: [Int]) = {
    var rng = SplitMix64(seed: 11)
    return (Tensor.normal([7, 16, 3], using: &rng), [0, 1, 2, 3, 0, 1, 2])
  }()

  private var model: Sequential {
    var rng = SplitMix64(seed: 5)
    return ReferenceModel.teacher.make(channels: 3, classes: 4, generator: &rng)
  }

  /// The mean cross-entropy of one shard, in training mode (dropout on), and the generator's
  /// state after the pass.
  private func loss(_ m: Sequential, _ shard: BatchShard) -> (loss: Tensor, output: UInt64) {
    var context = ForwardContext(isTraining: true, generator: SplitMix64(seed: 99))
    context.shard = shard
    let x = batch.x.sliced(alongAxis: 0, range: shard.range)
    let logits = m.forward(x, context: &context)
    return (
      softmaxCrossEntropy(logits: logits, labels: Array(batch.labels[shard.range])),
      context.generator.state
    )
  }

  @Test func skipEqualsDrawing() {
    var drawn = SplitMix64(seed: 3)
    for _ in 0..<1_000 { _ = drawn.next() }
    var skipped = SplitMix64(seed: 3)
    skipped.skip(1_000)
    #expect(skipped == drawn)
    #expect(skipped.next() == drawn.next())
  }

  @Test func dropoutShardsDrawTheWholeBatchMask() {
    let dropout = Dropout(rate: 0.5)
    let x = Tensor(ones: [5, 4, 3])
    var whole = ForwardContext(isTraining: true, generator: SplitMix64(seed: 8))
    let expected = dropout.forward(x, context: &whole)
    var parts: [Tensor] = []
    for range in [0..<2, 2..<5] {
      var context = ForwardContext(isTraining: true, generator: SplitMix64(seed: 8))
      context.shard = BatchShard(range: range, batchSize: 5)
      parts.append(dropout.forward(x.sliced(alongAxis: 0, range: range), context: &context))
      #expect(
        context.generator == whole.generator, "shard \(range) ends the stream where one pass does")
    }
    #expect(Tensor.concatenating(parts, alongAxis: 0).scalars == expected.scalars)
    #expect(
      expected.scalars.contains(0) && expected.scalars.contains(2), "the mask drops and scales")
  }

  @Test func oneShardIsTheWholeBatchPass() {
    let sharded = valueWithGradients(of: model, batchSize: 7, shards: 1, loss)
    let plain = valueWithGradients(of: model) {
      loss($0, BatchShard(range: 0..<7, batchSize: 7)).loss
    }
    #expect(sharded.value == plain.value)
    #expect(sharded.outputs.count == 1)
    for (name, gradient) in plain.gradients.byName {
      #expect(sharded.gradients[name]!.scalars == gradient.scalars, "\(name)")
    }
  }

  @Test(arguments: [2, 3, 7])
  func shardsGiveTheWholeBatchGradients(shards: Int) throws {
    let whole = valueWithGradients(of: model, batchSize: 7, shards: 1, loss)
    let sharded = valueWithGradients(of: model, batchSize: 7, shards: shards, loss)
    #expect(sharded.outputs.count == shards)
    #expect(Set(sharded.outputs) == Set(whole.outputs), "every shard's dropout stream ends alike")
    #expect(abs(sharded.value - whole.value) <= 1e-6 * abs(whole.value))
    #expect(whole.gradients.byName.keys.sorted() == sharded.gradients.byName.keys.sorted())
    for (name, expected) in whole.gradients.byName {
      let found = try #require(sharded.gradients[name])
      let scale = expected.scalars.map(abs).max()!
      let error = zip(expected.scalars, found.scalars).map { abs($0 - $1) }.max()!
      // Only the order of the sums over examples differs.
      #expect(error <= 1e-5 * scale, "\(name): max |Δ| \(error) against max |g| \(scale)")
    }
  }

  @Test func moreShardsThanExamplesMakeOnePerExample() {
    let result = valueWithGradients(of: model, batchSize: 7, shards: 12, loss)
    #expect(result.outputs.count == 7)
  }

  @Test func resultsDoNotDependOnTheThreadCount() {
    let two = KernelConfiguration.with(threadCount: 2) {
      valueWithGradients(of: model, batchSize: 7, shards: 2, loss)
    }
    let one = KernelConfiguration.with(threadCount: 1) {
      valueWithGradients(of: model, batchSize: 7, shards: 2, loss)
    }
    #expect(one.value == two.value)
    for (name, gradient) in two.gradients.byName {
      #expect(one.gradients[name]!.scalars == gradient.scalars, "\(name)")
    }
  }

  @Test func workersSeeTheCallersKernelConfiguration() {
    let caller = KernelConfiguration(variant: .reference, threadCount: 4, winograd: false)
    let seen = KernelConfiguration.with(caller) {
      valueWithGradients(of: model, batchSize: 7, shards: 2) { m, shard in
        (loss(m, shard).loss, KernelConfiguration.current)
      }.outputs
    }
    // Each worker gets the caller's settings with its share of the threads.
    let worker = KernelConfiguration(variant: .reference, threadCount: 2, winograd: false)
    #expect(seen == [worker, worker])
  }

  private struct ShardFailed: Error, Equatable { let first: Int }

  @Test func aShardsErrorIsThrown() {
    #expect(throws: ShardFailed(first: 3)) {
      try valueWithGradients(of: model, batchSize: 7, shards: 2) { m, shard throws(ShardFailed) in
        if shard.range.lowerBound > 0 { throw ShardFailed(first: shard.range.lowerBound) }
        return loss(m, shard)
      }
    }
  }
}
