import Foundation
import Metrics

extension Figures {
  /// A heatmap of `matrix`: rows are true classes, columns predicted classes; each cell shows its
  /// count and is shaded by its share of the row (the class's recall on the diagonal).
  ///
  /// - Parameters:
  ///   - matrix: The counts to draw.
  ///   - classNames: Display names by class id, e.g. `[0: "walking"]`; ids without a name are
  ///     shown as numbers.
  ///   - title: The heading, e.g. `"Confusion matrix — RAB-KD"`.
  public static func confusionMatrix(
    _ matrix: ConfusionMatrix, classNames: [Int: String] = [:], title: String
  ) -> String {
    let names = matrix.classes.map { classNames[$0] ?? "\($0)" }
    let n = names.count
    let cell = min(64, max(30, 440 / Double(n)))
    let labelWidth = names.map { textWidth($0, size: 12) }.max() ?? 10
    // Column labels are turned 45° once they no longer fit under their cell.
    let rotate = labelWidth > cell - 4
    let left = labelWidth + 60
    let top = 74.0
    let size = cell * Double(n)
    let bottomSpace = (rotate ? labelWidth * 0.71 + 20 : 26) + 26
    let width = max(left + size + 130, textWidth(title, size: 17) + 40)
    var svg = SVGDocument(width: width, height: top + size + bottomSpace + 16, title: title)
    drawTitle(
      &svg, title,
      subtitle: "\(Format.grouped(matrix.total)) windows; shade = share of the true class's row")

    let normalized = matrix.rowNormalized
    for row in 0..<n {
      for column in 0..<n {
        let (x, y) = (left + cell * Double(column), top + cell * Double(row))
        let share = normalized[row][column]
        svg.rect(x: x, y: y, width: cell, height: cell, fill: heat(share), stroke: "#ffffff")
        let ink = share > 0.55 ? "#ffffff" : "#222222"
        let count = matrix.counts[row][column]
        let showShare = cell >= 46 && count > 0
        svg.text(
          Format.grouped(count), x: x + cell / 2, y: y + cell / 2 + (showShare ? 0 : 4),
          size: cell >= 40 ? 13 : 11, anchor: .middle, weight: row == column ? "bold" : "normal",
          fill: ink)
        if showShare {
          svg.text(
            "\(Format.fixed(100 * share, 0)) %", x: x + cell / 2, y: y + cell / 2 + 15, size: 10,
            anchor: .middle, fill: ink)
        }
      }
    }
    svg.rect(x: left, y: top, width: size, height: size, fill: "none", stroke: "#444444")

    for (index, name) in names.enumerated() {
      let center = Double(index) * cell + cell / 2
      svg.text(name, x: left - 8, y: top + center + 4, size: 12, anchor: .end)
      if rotate {
        svg.text(
          name, x: left + center + 4, y: top + size + 12, size: 12, anchor: .end, rotation: -45)
      } else {
        svg.text(name, x: left + center, y: top + size + 18, size: 12, anchor: .middle)
      }
    }
    svg.text(
      "Predicted class", x: left + size / 2, y: top + size + bottomSpace - 4, size: 13,
      anchor: .middle, weight: "bold")
    svg.text(
      "True class", x: 18, y: top + size / 2, size: 13, anchor: .middle, weight: "bold",
      rotation: -90)

    // Colour bar: ten bands from 0 % (bottom) to 100 % (top).
    let barX = left + size + 28
    let band = size / 10
    for step in 0..<10 {
      svg.rect(
        x: barX, y: top + size - band * Double(step + 1), width: 16, height: band + 0.5,
        fill: heat((Double(step) + 0.5) / 10))
    }
    svg.rect(x: barX, y: top, width: 16, height: size, fill: "none", stroke: "#444444")
    for fraction in [0.0, 0.5, 1.0] {
      let y = top + size - size * fraction
      svg.line(x1: barX + 16, y1: y, x2: barX + 21, y2: y, stroke: "#444444")
      svg.text("\(Int(fraction * 100)) %", x: barX + 24, y: y + 4, size: 12)
    }
    svg.text("share of row", x: barX + 8, y: top - 14, size: 11, anchor: .middle, fill: "#555555")
    return svg.xml
  }
}
