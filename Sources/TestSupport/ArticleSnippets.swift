import Foundation

/// The package's root folder, from this file's place in `Sources/TestSupport/`.
private let packageRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The ```` ```swift ```` blocks of the article at `article` (a path from the package root) that
/// do not appear, line for line (indentation and blank lines aside), in any of `files`; an
/// article without Swift blocks is reported too. Empty when every block quotes compiled code.
public func unquotedArticleBlocks(_ article: String, quotesOnly files: [String]) throws -> [String]
{
  func read(_ path: String) throws -> String {
    try String(contentsOf: packageRoot.appendingPathComponent(path), encoding: .utf8)
  }
  func normalized(_ text: some StringProtocol) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
      .filter { !$0.isEmpty }
      .joined(separator: "\n")
  }
  let sources = try files.map { normalized(try read($0)) }
  var blocks: [String] = []
  var current: [Substring]?
  for line in try read(article).split(separator: "\n", omittingEmptySubsequences: false) {
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    if current == nil, trimmed == "```swift" {
      current = []
    } else if current != nil, trimmed == "```" {
      blocks.append(normalized(current!.joined(separator: "\n")))
      current = nil
    } else {
      current?.append(line)
    }
  }
  guard !blocks.isEmpty else { return ["\(article) has no Swift code blocks"] }
  return blocks.filter { block in !sources.contains { $0.contains(block) } }
    .map { "\(article): this block is not in \(files):\n\($0)" }
}
