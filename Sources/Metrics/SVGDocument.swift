/// A minimal SVG writer: shapes and text appended in drawing order, serialized as standalone XML.
///
/// Coordinates are user units (pixels at 100 %) with the origin at the top left and y pointing
/// down. Every string written into text or attributes is XML-escaped.
///
/// ```swift
/// var svg = SVGDocument(width: 200, height: 100, title: "Example")
/// svg.rect(x: 10, y: 10, width: 50, height: 20, fill: "#0072B2")
/// svg.text("a label", x: 70, y: 25)
/// let xml = svg.xml
/// ```
public struct SVGDocument: Sendable {
  /// How text is aligned on its anchor point.
  public enum TextAnchor: String, Sendable {
    /// The text starts at the point.
    case start
    /// The text is centred on the point.
    case middle
    /// The text ends at the point.
    case end
  }

  /// The canvas width.
  public let width: Double
  /// The canvas height.
  public let height: Double
  /// The font used by ``text(_:x:y:size:anchor:weight:fill:rotation:halo:)``.
  public var fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"
  private var elements: [String] = []

  /// An empty white canvas; `title` becomes the document's `<title>` (shown as a tooltip and read
  /// by screen readers).
  public init(width: Double, height: Double, title: String) {
    self.width = width
    self.height = height
    elements.append("<title>\(Self.escaped(title))</title>")
    rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
  }

  /// A rectangle with its top-left corner at (`x`, `y`).
  public mutating func rect(
    x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil,
    strokeWidth: Double = 1, opacity: Double = 1
  ) {
    var attributes = [
      ("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(max(0, width))),
      ("height", Self.number(max(0, height))), ("fill", fill),
    ]
    if let stroke {
      attributes += [("stroke", stroke), ("stroke-width", Self.number(strokeWidth))]
    }
    if opacity < 1 { attributes.append(("fill-opacity", Self.number(opacity))) }
    append("rect", attributes)
  }

  /// A straight line from (`x1`, `y1`) to (`x2`, `y2`); `dash` is an SVG dash array, e.g. `"4 3"`.
  public mutating func line(
    x1: Double, y1: Double, x2: Double, y2: Double, stroke: String = "#000000",
    strokeWidth: Double = 1, dash: String? = nil
  ) {
    var attributes = [
      ("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)),
      ("y2", Self.number(y2)), ("stroke", stroke), ("stroke-width", Self.number(strokeWidth)),
    ]
    if let dash { attributes.append(("stroke-dasharray", dash)) }
    append("line", attributes)
  }

  /// A circle centred on (`cx`, `cy`).
  public mutating func circle(
    cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil,
    strokeWidth: Double = 1, opacity: Double = 1
  ) {
    var attributes = [
      ("cx", Self.number(cx)), ("cy", Self.number(cy)), ("r", Self.number(max(0, r))),
      ("fill", fill),
    ]
    if let stroke {
      attributes += [("stroke", stroke), ("stroke-width", Self.number(strokeWidth))]
    }
    if opacity < 1 { attributes.append(("fill-opacity", Self.number(opacity))) }
    append("circle", attributes)
  }

  /// An open line through `points`, e.g. one curve of a line chart.
  public mutating func polyline(
    _ points: [(x: Double, y: Double)], stroke: String, strokeWidth: Double = 2,
    dash: String? = nil
  ) {
    guard !points.isEmpty else { return }
    let list = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
    var attributes = [
      ("points", list), ("fill", "none"), ("stroke", stroke),
      ("stroke-width", Self.number(strokeWidth)), ("stroke-linejoin", "round"),
    ]
    if let dash { attributes.append(("stroke-dasharray", dash)) }
    append("polyline", attributes)
  }

  /// Text whose baseline starts, is centred or ends (per `anchor`) at (`x`, `y`), optionally
  /// rotated by `rotation` degrees (clockwise) about that point; `halo` outlines it in white so it
  /// stays legible over grid lines and shapes.
  public mutating func text(
    _ content: String, x: Double, y: Double, size: Double = 13, anchor: TextAnchor = .start,
    weight: String = "normal", fill: String = "#222222", rotation: Double = 0, halo: Bool = false
  ) {
    var attributes = [
      ("x", Self.number(x)), ("y", Self.number(y)), ("font-family", fontFamily),
      ("font-size", Self.number(size)), ("text-anchor", anchor.rawValue), ("fill", fill),
    ]
    if weight != "normal" { attributes.append(("font-weight", weight)) }
    if halo {
      attributes += [
        ("stroke", "#ffffff"), ("stroke-width", "3"), ("stroke-linejoin", "round"),
        ("paint-order", "stroke"),
      ]
    }
    if rotation != 0 {
      attributes.append(
        ("transform", "rotate(\(Self.number(rotation)) \(Self.number(x)) \(Self.number(y)))"))
    }
    elements.append(Self.open("text", attributes) + ">" + Self.escaped(content) + "</text>")
  }

  /// The document as standalone SVG 1.1 XML.
  public var xml: String {
    let header =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      + "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
      + "width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" "
      + "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\">\n"
    return header + elements.map { "  " + $0 }.joined(separator: "\n") + "\n</svg>\n"
  }

  /// `text` with the five XML special characters replaced by entities.
  public static func escaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.count)
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "'": result += "&apos;"
      default: result.append(character)
      }
    }
    return result
  }

  /// A coordinate with at most two decimals and no trailing zeros: small files, exact enough.
  public static func number(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let rounded = (value * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    var text = Format.fixed(rounded, 2)
    while text.hasSuffix("0") { text.removeLast() }
    return text
  }

  private mutating func append(_ name: String, _ attributes: [(String, String)]) {
    elements.append(Self.open(name, attributes) + "/>")
  }

  private static func open(_ name: String, _ attributes: [(String, String)]) -> String {
    "<\(name)" + attributes.map { " \($0.0)=\"\(escaped($0.1))\"" }.joined()
  }
}
