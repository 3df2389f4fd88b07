import Dispatch
@_spi(Kernels) import Tensor

/// `ceiling.fma`: the arithmetic ceiling of this machine in the same run as the other cases, so
/// that every GFLOP/s figure can be given as a share of it. Each of `--threads` threads runs the
/// independent-FMA loop on the widest registers the CPU has; the baseline is one thread.
func runCeilingCase(_ options: Options, _ report: inout Report) {
  guard options.selects("ceiling.fma") else { return }
  let iterations = options.quick ? 200_000 : 2_000_000
  let threads = KernelConfiguration.current.threadCount
  func loop(on count: Int) -> () -> Void {
    {
      DispatchQueue.concurrentPerform(iterations: count) { _ in
        CeilingKernel.run(iterations: iterations)
      }
    }
  }
  let (medians, foreign) = interleaved(
    rounds: options.quick ? 1 : 5, minimumSeconds: options.quick ? 0.02 : 0.2,
    [loop(on: 1), loop(on: threads)])
  let flops = Double(CeilingKernel.run(iterations: iterations))
  let note = foreign > 0.25 ? String(format: "other jobs used %.2f cores", foreign) : ""
  report.add(
    "ceiling.fma", metric: "gflops", value: Double(threads) * flops / medians[1] / 1e9,
    baseline: ("1 thread", flops / medians[0] / 1e9), note: note)
}
