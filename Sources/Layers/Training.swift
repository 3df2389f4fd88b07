import Dispatch
import Tensor

/// Gradients of a loss with respect to a model's parameters, keyed by dotted parameter name.
public struct Gradients {
  /// The gradient of each parameter, by name.
  public var byName: [String: Tensor]

  /// Gradients from a dictionary.
  public init(byName: [String: Tensor]) { self.byName = byName }

  /// The gradient of the parameter `name`, if any.
  public subscript(name: String) -> Tensor? { byName[name] }

  /// `√(Σ g²)` over every gradient element, accumulated in `Double`.
  public var globalNorm: Float {
    var total = 0.0
    for gradient in byName.values {
      gradient.withUnsafeBufferPointer { g in for x in g { total += Double(x) * Double(x) } }
    }
    return Float(total.squareRoot())
  }

  /// Whether every gradient element is finite.
  public var isFinite: Bool {
    byName.values.allSatisfy { $0.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) } }
  }

  /// The gradients scaled down so that their ``globalNorm`` is at most `maxNorm`; unchanged if it
  /// already is.
  ///
  /// Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural networks", ICML
  /// 2013 (https://arxiv.org/abs/1211.5063).
  public func clippedByGlobalNorm(_ maxNorm: Float) -> Gradients {
    let norm = globalNorm
    guard norm > maxNorm, norm > 0 else { return self }
    let scale = maxNorm / norm
    return Gradients(byName: byName.mapValues { ($0 * scale).detached() })
  }
}

/// The value of `loss(model)` and its gradient with respect to every parameter of `model`.
///
/// Every parameter is tracked on a fresh tape, `loss` runs once, and one backward pass gives the
/// gradients, keyed by the parameters' dotted names.
public func valueWithGradients<Model: Layer, Failure: Error>(
  of model: Model, _ loss: (Model) throws(Failure) -> Tensor
) throws(Failure) -> (value: Float, gradients: Gradients) {
  let tape = Tape()
  var tracked = model
  var parameters: [(name: String, value: Tensor)] = []
  tracked.forEachParameter { name, value in
    value = tape.variable(value)
    parameters.append((name, value))
  }
  let value = try loss(tracked)
  let grads = tape.gradients(of: value, wrt: parameters.map(\.value))
  let byName = Dictionary(uniqueKeysWithValues: zip(parameters.map(\.name), grads))
  return (value.scalar, Gradients(byName: byName))
}

/// The value and gradients of a mini-batch's mean loss, computed by `shards` workers in parallel,
/// each on its own slice of the batch (data parallelism).
///
/// The batch `0..<batchSize` is cut into `shards` contiguous slices of nearly equal size. Each
/// worker tracks the parameters on its own tape, calls `loss(model, shard)` for its slice, and
/// differentiates it; the results are combined as `Σ weight · value` and `Σ weight · gradient`,
/// with `weight = slice size / batchSize`. When `loss` returns the mean over the slice's examples
/// of a per-example loss (cross-entropy, KD, attention MSE), that is exactly the mean over the
/// whole batch, up to float rounding: the gradients differ from one pass over the batch only in
/// the order of their sums (tested within 1e-5 of the largest gradient). One shard runs `loss`
/// once, inline, and gives the same bits as ``valueWithGradients(of:_:)``.
///
/// Small models gain most: a worker runs a whole forward and backward pass without meeting the
/// others, where splitting each operation pays only for large ones. The shards run on at most
/// `KernelConfiguration.current.threadCount` threads (more shards than threads run in turn), and
/// each shard's operations on its share of them (at least one), so the thread count bounds the
/// whole step. The shards, not the threads, decide how the batch is cut: the same `shards` give
/// the same bits on any thread count.
///
/// - Parameters:
///   - model: The model whose parameters are differentiated.
///   - batchSize: The examples in the batch (≥ 1); more shards than examples are not made.
///   - shards: The number of workers (≥ 1).
///   - loss: The mean loss of the examples `shard.range`, and anything else the caller wants
///     from that pass (logits, loss parts). It is called **concurrently**, once per shard, so it
///     must only read what it captures; put `shard` into the ``ForwardContext`` so that dropout
///     draws the whole batch's masks. A batch-statistics layer (``BatchNorm``) would see only its
///     shard: train such models with one shard.
/// - Returns: The combined value and gradients, and each shard's output in batch order.
/// - Throws: The first error any shard threw, after every shard has finished.
public func valueWithGradients<Model: Layer, Output, Failure: Error>(
  of model: Model, batchSize: Int, shards: Int,
  _ loss: (Model, BatchShard) throws(Failure) -> (loss: Tensor, output: Output)
) throws(Failure) -> (value: Float, gradients: Gradients, outputs: [Output]) {
  precondition(
    batchSize >= 1 && shards >= 1,
    "valueWithGradients: batch size \(batchSize) and shards \(shards) must be ≥ 1")
  let count = Swift.min(shards, batchSize)
  let slices = (0..<count).map { s in
    BatchShard(range: (batchSize * s / count)..<(batchSize * (s + 1) / count), batchSize: batchSize)
  }
  typealias ShardResult = Result<(value: Float, gradients: Gradients, output: Output), Failure>
  func run(
    _ shard: BatchShard,
    _ loss: (Model, BatchShard) throws(Failure) -> (loss: Tensor, output: Output)
  ) -> ShardResult {
    var output: Output?
    do throws(Failure) {
      let (value, gradients) = try valueWithGradients(of: model) { m throws(Failure) in
        let result = try loss(m, shard)
        output = result.output
        return result.loss
      }
      return .success((value, gradients, output!))
    } catch {
      return .failure(error)
    }
  }
  if count == 1 { return try unwrap([run(slices[0], loss)]) }

  // The shards run on at most `threadCount` threads, each shard's operations on its share.
  let current = KernelConfiguration.current
  let workers = Swift.min(count, current.threadCount)
  let perShard = current.withThreadCount(current.threadCount / workers)
  var results = [ShardResult?](repeating: nil, count: count)
  withoutActuallyEscaping(loss) { loss in
    results.withUnsafeMutableBufferPointer { buffer in
      let work = ShardWork(run: { run($0, loss) }, results: buffer.baseAddress!)
      forEachPiece(count, threads: workers) { s in
        // Task-local settings do not reach the pool's (or Dispatch's) threads: each worker sets
        // its own.
        let result = KernelConfiguration.with(perShard) { work.run(slices[s]) }
        work.results[s] = result
      }
    }
  }
  return try unwrap(results.map { $0! })

  func unwrap(_ results: [ShardResult]) throws(Failure) -> (Float, Gradients, [Output]) {
    var parts: [(value: Float, gradients: Gradients, output: Output)] = []
    for result in results {
      switch result {
      case .success(let part): parts.append(part)
      case .failure(let error): throw error
      }
    }
    guard parts.count > 1 else { return (parts[0].value, parts[0].gradients, [parts[0].output]) }
    // The first shard's gradients, scaled into fresh arrays, then the others added in place.
    var value = slices[0].weight * parts[0].value
    var combined = parts[0].gradients.byName.mapValues { $0 * slices[0].weight }
    for (s, part) in parts.enumerated().dropFirst() {
      let weight = slices[s].weight
      value += weight * part.value
      for (name, gradient) in part.gradients.byName {
        combined[name]!.withUnsafeMutableBufferPointer { total in
          gradient.withUnsafeBufferPointer { g in
            for i in total.indices { total[i] += weight * g[i] }
          }
        }
      }
    }
    return (value, Gradients(byName: combined), parts.map(\.output))
  }
}

/// What the workers of ``valueWithGradients(of:batchSize:shards:_:)`` share.
///
/// Invariant (what makes the `@unchecked Sendable` sound): while the parallel region runs, `run`
/// only reads what it captured (the model, whose storage no one writes, and the caller's `loss`,
/// documented to only read), each worker writes only its own slot `results[s]`, and the region
/// returns only after every worker finished, so `results` outlives it.
private struct ShardWork<Value>: @unchecked Sendable {
  let run: (BatchShard) -> Value
  let results: UnsafeMutablePointer<Value?>
}

extension Layer {
  /// The model's outputs for `input` in inference mode, computed `batchSize` examples at a time.
  ///
  /// - Parameters:
  ///   - input: `[examples, …]`, e.g. `[examples, time, channels]`.
  ///   - batchSize: Examples per forward pass; bounds the memory used.
  /// - Returns: `[examples, …]`, e.g. logits `[examples, classes]`.
  public func predict(_ input: Tensor, batchSize: Int = 256) -> Tensor {
    precondition(batchSize > 0, "predict(batchSize: \(batchSize)): must be > 0")
    let count = input.shape.first ?? 0
    var parts: [Tensor] = []
    var start = 0
    while start < count {
      let end = Swift.min(start + batchSize, count)
      var context = ForwardContext.inference
      parts.append(forward(input.sliced(alongAxis: 0, range: start..<end), context: &context))
      start = end
    }
    return parts.count == 1 ? parts[0] : Tensor.concatenating(parts, alongAxis: 0)
  }
}
