/// `precondition` whose message survives optimized builds (the standard library's prints none
/// in `-O` code); it shadows the standard one in this module.
@inline(__always)
func precondition(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) { if !condition() { fatalError(message(), file: file, line: line) } }
