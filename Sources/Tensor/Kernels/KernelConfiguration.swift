import CKernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// An implementation of the numeric kernels.
///
/// The C variants are compiled into every build (per-function `target` attributes) and the best
/// one the CPU supports is chosen at run time; ``reference`` is the plain Swift loops that every
/// fast kernel is tested against.
public enum KernelVariant: String, CaseIterable, Sendable, CustomStringConvertible {
  /// The simple Swift reference loops (the test oracle; slow).
  case reference
  /// Portable C at the default target (SSE2 on x86-64, NEON on arm64).
  case generic
  /// x86-64 AVX2 and FMA3: a 6×16 micro-kernel on ymm registers.
  case avx2FMA = "avx2+fma"
  /// x86-64 AVX-512F: an 8×32 micro-kernel on zmm registers, masked edges.
  case avx512F = "avx512f"

  public var description: String { rawValue }

  /// Whether this CPU can run the variant.
  public var isSupported: Bool {
    cValue.map { hd_variant_supported($0) != 0 } ?? true
  }

  /// The C library's number for the variant, `nil` for the Swift reference.
  var cValue: Int32? {
    switch self {
    case .reference: nil
    case .generic: Int32(HD_VARIANT_GENERIC)
    case .avx2FMA: Int32(HD_VARIANT_AVX2_FMA)
    case .avx512F: Int32(HD_VARIANT_AVX512F)
    }
  }
}

/// Which kernels run and on how many threads.
///
/// By default: the fastest variant this CPU supports, and one worker per active processor for
/// operations large enough to pay for a thread hand-off. Both can be overridden for a scope
/// (tests compare variants and thread counts this way; the override is task-local, so concurrent
/// tests do not see each other's settings):
///
/// ```swift
/// let slow = KernelConfiguration.with(variant: .reference) { x.conv1D(filter: w) }
/// ```
public struct KernelConfiguration: Sendable, Equatable {
  /// The kernel implementation.
  public var variant: KernelVariant
  /// The most threads one operation uses (≥ 1).
  public var threadCount: Int
  /// Whether convolutions with a 5-step kernel, stride 1 and dilation 1 and at least 16
  /// channels in and out may compute their output and both gradients with Winograd's minimal
  /// filtering, F(4, 5) (F(5, 4) for the filter gradient; C variants only; on by default).
  ///
  /// It needs 2/5 of the multiplies of the direct sums, which made the teacher's forward pass
  /// about 1.7× faster on one core, at 2–5× the direct sums' float32 rounding error (at most
  /// 1.9·10⁻⁶ of the largest value in the kernel tests). Turn it off where a convolution must
  /// match the reference kernel to the last bits.
  public var winograd: Bool

  /// A configuration; `threadCount` is clamped to at least 1.
  public init(variant: KernelVariant, threadCount: Int, winograd: Bool = true) {
    self.variant = variant
    self.threadCount = Swift.max(1, threadCount)
    self.winograd = winograd
  }

  /// The same settings with at most `threadCount` threads per operation (at least 1).
  public func withThreadCount(_ threadCount: Int) -> KernelConfiguration {
    var copy = self
    copy.threadCount = Swift.max(1, threadCount)
    return copy
  }

  /// The fastest supported variant and one thread per active processor.
  public static let automatic = KernelConfiguration(
    variant: KernelVariant.allCases.last { $0.isSupported } ?? .generic,
    threadCount: activeProcessorCount())

  @TaskLocal static var override: KernelConfiguration?

  /// The configuration in effect on this task.
  public static var current: KernelConfiguration { override ?? automatic }

  /// Runs `body` with `configuration` in effect (task-local: other tasks are unaffected).
  public static func with<R>(
    _ configuration: KernelConfiguration, _ body: () throws -> R
  ) rethrows -> R {
    precondition(
      configuration.variant.isSupported,
      "KernelConfiguration: variant \(configuration.variant) is not supported by this CPU")
    return try $override.withValue(configuration, operation: body)
  }

  /// Runs `body` with `variant` in effect, keeping the other settings.
  public static func with<R>(variant: KernelVariant, _ body: () throws -> R) rethrows -> R {
    var configuration = current
    configuration.variant = variant
    return try with(configuration, body)
  }

  /// Runs `body` with at most `threadCount` threads per operation, keeping the other settings.
  public static func with<R>(threadCount: Int, _ body: () throws -> R) rethrows -> R {
    try with(current.withThreadCount(threadCount), body)
  }

  /// Runs `body` with Winograd convolutions allowed or not (``winograd``), keeping the other
  /// settings.
  public static func with<R>(winograd: Bool, _ body: () throws -> R) rethrows -> R {
    var configuration = current
    configuration.winograd = winograd
    return try with(configuration, body)
  }
}

private func activeProcessorCount() -> Int {
  #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
    return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  #else
    return 1
  #endif
}
