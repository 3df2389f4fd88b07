import Foundation
import Metrics

/// The study's SVG figures, drawn with ``SVGDocument``.
///
/// Each function returns a complete SVG document as a string. Colours come from the Okabe–Ito
/// palette (distinguishable with the common colour-vision deficiencies) and follow the order of
/// the configurations, so one configuration has the same colour in every figure.
public enum Figures {
  /// Okabe–Ito colours, darkest yellow last (pale yellow is unreadable on white).
  static let palette = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#B8860B",
    "#999999",
  ]

  /// The colour of the configuration at `index` in the study's order.
  public static func color(index: Int) -> String { palette[index % palette.count] }

  /// Approximate rendered width of `text` at `size`: DejaVu Sans averages ~0.6 em per glyph.
  static func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }

  /// A plot rectangle in canvas coordinates.
  struct Frame {
    var left: Double, top: Double, right: Double, bottom: Double
    var width: Double { right - left }
    var height: Double { bottom - top }
  }

  /// Labels a linear tick with as many decimals as the step between ticks needs.
  static func tickLabel(_ value: Double, step: Double) -> String {
    let decimals = step >= 1 ? 0 : Int(ceil(-log10(step) - 1e-9))
    return Format.fixed(value, decimals)
  }

  /// Grid lines, ticks, tick labels, axis lines and axis titles of one plot.
  static func drawAxes(
    _ svg: inout SVGDocument, frame: Frame, x: Scale, y: Scale, xTitle: String, yTitle: String
  ) {
    let grid = "#e3e3e3"
    for tick in x.ticks where x.domain.contains(tick.value) {
      let px = x(tick.value)
      if tick.isMajor {
        svg.line(x1: px, y1: frame.top, x2: px, y2: frame.bottom, stroke: grid)
        svg.line(x1: px, y1: frame.bottom, x2: px, y2: frame.bottom + 6, stroke: "#444444")
        svg.text(tick.label, x: px, y: frame.bottom + 21, size: 12, anchor: .middle)
      } else {
        svg.line(x1: px, y1: frame.bottom, x2: px, y2: frame.bottom + 3, stroke: "#666666")
      }
    }
    for tick in y.ticks where y.domain.contains(tick.value) && tick.isMajor {
      let py = y(tick.value)
      svg.line(x1: frame.left, y1: py, x2: frame.right, y2: py, stroke: grid)
      svg.line(x1: frame.left - 6, y1: py, x2: frame.left, y2: py, stroke: "#444444")
      svg.text(tick.label, x: frame.left - 9, y: py + 4, size: 12, anchor: .end)
    }
    svg.line(
      x1: frame.left, y1: frame.bottom, x2: frame.right, y2: frame.bottom, stroke: "#444444")
    svg.line(x1: frame.left, y1: frame.top, x2: frame.left, y2: frame.bottom, stroke: "#444444")
    svg.text(
      xTitle, x: (frame.left + frame.right) / 2, y: frame.bottom + 44, size: 13, anchor: .middle)
    let widestLabel = y.ticks.filter(\.isMajor).map { textWidth($0.label, size: 12) }.max() ?? 20
    svg.text(
      yTitle, x: frame.left - widestLabel - 22, y: (frame.top + frame.bottom) / 2, size: 13,
      anchor: .middle, rotation: -90)
  }

  /// A chart title, centred, with an optional smaller subtitle below it.
  static func drawTitle(_ svg: inout SVGDocument, _ title: String, subtitle: String? = nil) {
    svg.text(title, x: svg.width / 2, y: 28, size: 17, anchor: .middle, weight: "bold")
    if let subtitle {
      svg.text(subtitle, x: svg.width / 2, y: 48, size: 12, anchor: .middle, fill: "#555555")
    }
  }

  /// A colour between white and dark blue for `fraction` in [0, 1] (ColorBrewer "Blues").
  static func heat(_ fraction: Double) -> String {
    let stops: [(Double, (Double, Double, Double))] = [
      (0, (247, 251, 255)), (0.25, (198, 219, 239)), (0.5, (107, 174, 214)),
      (0.75, (33, 113, 181)), (1, (8, 48, 107)),
    ]
    let f = min(1, max(0, fraction.isFinite ? fraction : 0))
    var index = 0
    while index < stops.count - 2, f > stops[index + 1].0 { index += 1 }
    let (f0, c0) = stops[index]
    let (f1, c1) = stops[index + 1]
    let t = (f - f0) / (f1 - f0)
    let channels = [(c0.0, c1.0), (c0.1, c1.1), (c0.2, c1.2)].map {
      Int(($0 + t * ($1 - $0)).rounded())
    }
    return "#" + channels.map { String(format: "%02X", $0) }.joined()
  }
}
