import Tensor
import Testing

/// Shape errors name the operation and both shapes, thrown by the public shape rules and used
/// word for word when an op stops.
@Suite("Shape errors")
struct ShapeErrorTests {
  @Test func constructorCountsScalars() throws {
    #expect(throws: ShapeError.scalarCount(shape: [2, 3], expected: 6, found: 5)) {
      try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
    }
    #expect(
      ShapeError.scalarCount(shape: [2, 3], expected: 6, found: 5).description
        == "shape [2, 3] needs 6 scalars, found 5")
    #expect(throws: ShapeError.self) { try Tensor(rows: [[1, 2], [3]]) }
    // An element count that overflows Int is an error, not a trap.
    #expect(
      throws: ShapeError.invalid(
        operation: "Tensor", shape: [1 << 40, 1 << 40], rule: "an element count that fits in Int")
    ) { try Tensor(shape: [1 << 40, 1 << 40], scalars: []) }
  }

  @Test func broadcastingNamesBothShapes() throws {
    #expect(throws: ShapeError.self) { try Tensor.broadcastShape([2, 3], [4], operation: "add") }
    do {
      _ = try Tensor.broadcastShape([2, 3], [4], operation: "add")
    } catch {
      #expect(
        error.description
          == "add: shapes [2, 3] and [4] do not fit broadcasting (equal extents or 1)")
    }
    #expect(try Tensor.broadcastShape([2, 1, 3], [4, 1]) == [2, 4, 3])
    #expect(try Tensor.broadcastShape([], [5]) == [5])
  }

  @Test func matmulNamesBothShapes() throws {
    #expect(
      throws: ShapeError.incompatible(
        operation: "matmul", lhs: [3, 4], rhs: [5, 2], rule: "[..., m, k] × [..., k, n]")
    ) { try Tensor.matmulShape([3, 4], [5, 2]) }
    #expect(
      ShapeError.incompatible(
        operation: "matmul", lhs: [3, 4], rhs: [5, 2], rule: "[..., m, k] × [..., k, n]"
      ).description == "matmul: shapes [3, 4] and [5, 2] do not fit [..., m, k] × [..., k, n]")
    #expect(throws: ShapeError.self) { try Tensor.matmulShape([2, 3, 4], [3, 4, 2]) }
    #expect(try Tensor.matmulShape([7, 3, 4], [4, 2]) == [7, 3, 2])
  }

  @Test func reshapeAndConcatenate() throws {
    #expect(
      throws: ShapeError.incompatible(
        operation: "reshape", lhs: [2, 3], rhs: [4, -1], rule: "equal element counts")
    ) { try Tensor.reshapedShape([2, 3], to: [4, -1]) }
    #expect(throws: ShapeError.self) { try Tensor.reshapedShape([2, 3], to: [-1, -1]) }
    #expect(
      throws: ShapeError.incompatible(
        operation: "concatenate", lhs: [2, 3], rhs: [3, 2],
        rule: "equal extents except along axis 1")
    ) { try Tensor.concatenatedShape([[2, 3], [3, 2]], alongAxis: 1) }
    #expect(try Tensor.concatenatedShape([[2, 3], [2, 5]], alongAxis: -1) == [2, 8])
  }

  @Test func reductionAxes() throws {
    #expect(
      throws: ShapeError.invalid(
        operation: "sum", shape: [2, 3], rule: "distinct axes in -2..<2, got [2]")
    ) { try Tensor.normalizedAxes([2], rank: 2, shape: [2, 3], operation: "sum") }
    #expect(throws: ShapeError.self) {
      try Tensor.normalizedAxes([0, -2], rank: 2, shape: [2, 3], operation: "mean")
    }
  }

  @Test func convolutionAndPooling() throws {
    let error = ShapeError.incompatible(
      operation: "conv1D", lhs: [8, 128, 9], rhs: [5, 6, 16],
      rule: "[batch, time, c] ⊛ [kernel, c, out] with stride, dilation ≥ 1")
    #expect(throws: error) {
      try Tensor.conv1DShape(
        input: [8, 128, 9], filter: [5, 6, 16], bias: [16], stride: 1, dilation: 1,
        padding: .same)
    }
    #expect(
      error.description
        == "conv1D: shapes [8, 128, 9] and [5, 6, 16] do not fit "
        + "[batch, time, c] ⊛ [kernel, c, out] with stride, dilation ≥ 1")
    #expect(
      throws: ShapeError.incompatible(
        operation: "conv1D", lhs: [5, 9, 16], rhs: [8], rule: "bias [out]")
    ) {
      try Tensor.conv1DShape(
        input: [8, 128, 9], filter: [5, 9, 16], bias: [8], stride: 1, dilation: 1, padding: .same)
    }
    // A dilated kernel longer than the sequence leaves no `valid` output.
    #expect(throws: ShapeError.self) {
      try Tensor.conv1DShape(
        input: [1, 4, 1], filter: [3, 1, 1], bias: nil, stride: 1, dilation: 2, padding: .valid)
    }
    #expect(
      try Tensor.conv1DShape(
        input: [8, 128, 9], filter: [5, 9, 16], bias: [16], stride: 2, dilation: 1, padding: .same)
        == [8, 64, 16])
    #expect(
      throws: ShapeError.invalid(
        operation: "maxPool1D", shape: [8, 128],
        rule: "[batch, time, channels] with kernel 2 ≥ 1 and stride 2 ≥ 1")
    ) {
      try Tensor.pool1DShape(
        input: [8, 128], kernelSize: 2, stride: 2, padding: .valid, operation: "maxPool1D")
    }
  }

  @Test func crossEntropyLabels() throws {
    #expect(
      throws: ShapeError.invalid(
        operation: "softmaxCrossEntropy", shape: [2, 3], rule: "labels in 0..<3, found 3 at row 1")
    ) { try checkSoftmaxCrossEntropy(logitsShape: [2, 3], labels: [0, 3]) }
    #expect(
      throws: ShapeError.invalid(
        operation: "softmaxCrossEntropy", shape: [2, 3],
        rule: "[batch, classes] with batch = 3 labels")
    ) { try checkSoftmaxCrossEntropy(logitsShape: [2, 3], labels: [0, 1, 2]) }
  }

  @Test func layerContextPrefixesThePath() {
    let inner = ShapeError.invalid(operation: "Dense", shape: [4, 3], rule: "[batch, 5]")
    #expect(
      ShapeError.inLayer(path: "3 (Dense)", underlying: inner).description
        == "layer 3 (Dense): Dense: shape [4, 3] does not fit [batch, 5]")
  }

  /// An op given mismatched shapes stops the process with the same words its rule throws.
  @Test func mismatchedOpStopsWithTheMessage() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let a = Tensor(zeros: [3, 4])
      let b = Tensor(zeros: [5, 2])
      _ = a.matmul(b)
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(text.contains("matmul: shapes [3, 4] and [5, 2] do not fit [..., m, k] × [..., k, n]"))
  }
}
