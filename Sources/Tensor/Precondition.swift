/// `precondition` for this package's modules, whose message survives optimized builds: the
/// standard library's prints no message in `-O` code, so a programmer error in a release build
/// would stop the host app with only "precondition failure". Declared at package scope, it
/// shadows the standard one in every module of the package that imports Tensor, and in no
/// client's code.
@inline(__always)
package func precondition(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) { if !condition() { fatalError(message(), file: file, line: line) } }
