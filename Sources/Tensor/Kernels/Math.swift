// The C library's single-precision functions under a namespace, so they do not collide with
// the `Tensor` methods of the same names.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

enum Libm {
  @inline(__always) static func exp(_ x: Float) -> Float { expf(x) }
  @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
  @inline(__always) static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
  @inline(__always) static func tanh(_ x: Float) -> Float { tanhf(x) }
}
