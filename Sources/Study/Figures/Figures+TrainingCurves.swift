import Foundation
import Metrics

extension Figures {
  /// Training loss (left) and validation macro-F1 (right) per epoch, one line per curve, with
  /// the restored best epoch marked; colours are `colors` or follow the order of `curves`.
  public static func trainingCurves(
    _ curves: [TrainingCurve], colors: [String]? = nil, title: String = "Training curves"
  ) -> String {
    let legendRows = (curves.count + 4) / 5
    var svg = SVGDocument(
      width: 980, height: 442 + 22 * Double(max(0, legendRows - 1)), title: title)
    drawTitle(&svg, title, subtitle: "loss on the training split; macro-F1 on the validation split")
    let panels = [
      Frame(left: 80, top: 70, right: 450, bottom: 340),
      Frame(left: 580, top: 70, right: 950, bottom: 340),
    ]
    let maxEpoch = Double(curves.map(\.epochs).max() ?? 1)
    let epochStep = Scale.niceStep(max(1, maxEpoch - 1) / 6)

    let series: [(title: String, values: (TrainingCurve) -> [Double], scale: Double)] = [
      ("Training loss", { $0.trainingLoss }, 1),
      ("Validation macro-F1 (%)", { $0.validationMacroF1 }, 100),
    ]
    for (panel, entry) in zip(panels, series) {
      let all = curves.flatMap { entry.values($0).map { $0 * entry.scale } }
        .filter(\.isFinite)
      let (low, high) = (all.min() ?? 0, all.max() ?? 1)
      let y = Scale.linear(
        covering: min(low, entry.scale == 1 ? 0 : low)...high, range: (panel.bottom, panel.top)
      )
      let x = Scale.linear(
        covering: 1...max(2, maxEpoch), range: (panel.left, panel.right),
        tickCount: Int(max(2, maxEpoch - 1) / epochStep) + 1
      ) { Format.fixed($0, 0) }
      drawAxes(&svg, frame: panel, x: x, y: y, xTitle: "Epoch", yTitle: entry.title)
      for (index, curve) in curves.enumerated() {
        let color = colors?[index % max(1, colors?.count ?? 1)] ?? Figures.color(index: index)
        let values = entry.values(curve)
        let points = values.enumerated().filter { $0.element.isFinite }.map {
          (x: x(Double($0.offset + 1)), y: y($0.element * entry.scale))
        }
        svg.polyline(points, stroke: color, strokeWidth: 2)
        if points.count == 1 { svg.circle(cx: points[0].x, cy: points[0].y, r: 3, fill: color) }
        if let best = curve.bestEpoch, best <= values.count, values[best - 1].isFinite {
          svg.circle(
            cx: x(Double(best)), cy: y(values[best - 1] * entry.scale), r: 4.5, fill: "#ffffff",
            stroke: color, strokeWidth: 2)
        }
      }
    }

    // Legend under the panels, five entries per row.
    let legendTop = 412.0
    for (index, curve) in curves.enumerated() {
      let color = colors?[index % max(1, colors?.count ?? 1)] ?? Figures.color(index: index)
      let x = 80 + Double(index % 5) * 150
      let y = legendTop + 22 * Double(index / 5)
      svg.line(x1: x, y1: y - 4, x2: x + 26, y2: y - 4, stroke: color, strokeWidth: 3)
      svg.text(curve.configuration, x: x + 32, y: y, size: 12)
    }
    if curves.contains(where: { $0.bestEpoch != nil }) {
      svg.circle(
        cx: 836, cy: legendTop - 4, r: 4.5, fill: "#ffffff", stroke: "#444444",
        strokeWidth: 2)
      svg.text("best epoch", x: 846, y: legendTop, size: 12)
    }
    return svg.xml
  }
}
