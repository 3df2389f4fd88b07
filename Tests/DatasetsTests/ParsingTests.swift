import Datasets
import Testing

/// Number texts in every form the loaders accept, each compared with `Float(String)`.
private let numberTexts = [
  "0", "-0", "+1.5", ".5", "5.", "-.25", "1E3", "1e+03", "2.5e-001", "-9.16297827e-05",
  "1.8085150e-004", "0.918055594", "123456789", "3.4028234e38", "1.17549435e-38", "1e-40",
  "0.12345678901234567890123", "98765432109876543210", "1.000000059604644775390625",
  "1.0000000596046447753906251", "0.000000000000000000000000001", "16777217", "4.5e-50",
]

@Suite("Number parsing")
struct ParsingTests {
  @Test(arguments: numberTexts)
  func matchesTheStandardLibrary(_ text: String) throws {
    let folder = FixtureFolder()
    let path = folder.write("numbers.csv", "subject,label,v\n1,a,\(text)\n1,a, \(text) \n")
    let layout = CSV.Layout(subject: "subject", label: "label", channels: ["v"])
    let (streams, _) = try CSV.loadRecordings(path, layout: layout)
    let expected = try #require(Float(text))
    #expect(streams[0].values.map(\.bitPattern) == [expected.bitPattern, expected.bitPattern])
  }

  @Test(arguments: ["1.2.3", "1e", "--1", "0x1p3", "1,5e", "e5", "."])
  func rejectsWhatIsNotANumber(_ text: String) throws {
    let folder = FixtureFolder()
    let path = folder.write("numbers.csv", "subject,label,v\n1,a,\(text)\n")
    let layout = CSV.Layout(subject: "subject", label: "label", channels: ["v"])
    #expect(throws: DatasetError.self) { try CSV.loadRecordings(path, layout: layout) }
  }

  @Test func overflowIsNonFinite() {
    let folder = FixtureFolder()
    let path = folder.write("numbers.csv", "subject,label,v\n1,a,1e400\n")
    let layout = CSV.Layout(subject: "subject", label: "label", channels: ["v"])
    #expect(throws: DatasetError.nonFiniteValue(path: path, line: 2, column: 5, found: "1e400")) {
      try CSV.loadRecordings(path, layout: layout)
    }
  }

  @Test func quotesAtMostSixtyCharacters() {
    let folder = FixtureFolder()
    let long = String(repeating: "x", count: 80)
    let path = folder.write("numbers.csv", "subject,label,v\n1,a,\(long)\n")
    let layout = CSV.Layout(subject: "subject", label: "label", channels: ["v"])
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 2, column: 5, expected: "a number",
        found: String(repeating: "x", count: 60))
    ) { try CSV.loadRecordings(path, layout: layout) }
  }
}

@Suite("Special values")
struct SpecialValueTests {
  @Test func opportunityKeepsNaNAndRejectsInfinity() throws {
    let folder = FixtureFolder()
    let fields = ["0", "nan", "-NaN", "INF"] + [String](repeating: "1", count: 246)
    let path = folder.write("S1-ADL1.dat", fields.joined(separator: " ") + "\n")
    #expect(throws: DatasetError.nonFiniteValue(path: path, line: 1, column: 12, found: "INF")) {
      try Opportunity.loadRecording(path, subject: 1)
    }
  }

  @Test func wordsThatOnlyStartLikeSpecialValuesAreNotNumbers() {
    let folder = FixtureFolder()
    let path = folder.write("numbers.csv", "subject,label,v\n1,a,nanny\n")
    let layout = CSV.Layout(subject: "subject", label: "label", channels: ["v"])
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 2, column: 5, expected: "a number", found: "nanny")
    ) { try CSV.loadRecordings(path, layout: layout) }
  }
}
