import Foundation
import Metrics

extension Figures {
  /// A horizontal bar chart of model size per configuration: float32 parameter bytes, and the
  /// checkpoint file's bytes beside it for configurations listed in `checkpointBytes`.
  ///
  /// Each bar is labelled with its size and the parameter count; the axis is linear, so the
  /// ratio between two bars is the ratio between the models.
  public static func modelSize(
    _ results: StudyResults, checkpointBytes: [String: Int] = [:], title: String? = nil
  ) -> String {
    let entries = results.summary
    let hasCheckpoints = entries.contains { checkpointBytes[$0.configuration] != nil }
    let rowHeight = hasCheckpoints ? 44.0 : 32.0
    let nameWidth = entries.map { textWidth($0.configuration, size: 13) }.max() ?? 40
    let frame = Frame(
      left: max(110, nameWidth + 30), top: hasCheckpoints ? 86 : 70, right: 660,
      bottom: (hasCheckpoints ? 86 : 70) + rowHeight * Double(max(1, entries.count)))
    var svg = SVGDocument(
      width: 840, height: frame.bottom + 70, title: title ?? "Model size (\(results.dataset))")
    drawTitle(
      &svg, title ?? "Model size — \(results.dataset)",
      subtitle: hasCheckpoints ? nil : "float32 parameters, 4 bytes each")

    let largest =
      entries.map { entry in
        max(entry.mean[.sizeBytes], Double(checkpointBytes[entry.configuration] ?? 0))
      }.max() ?? 1
    let x = Scale.linear(covering: 0...max(1, largest), range: (frame.left, frame.right)) {
      Format.bytes(Int($0.rounded()))
    }
    let grid = "#e3e3e3"
    for tick in x.ticks {
      let px = x(tick.value)
      svg.line(x1: px, y1: frame.top, x2: px, y2: frame.bottom, stroke: grid)
      svg.line(x1: px, y1: frame.bottom, x2: px, y2: frame.bottom + 6, stroke: "#444444")
      svg.text(tick.label, x: px, y: frame.bottom + 21, size: 12, anchor: .middle)
    }
    svg.line(x1: frame.left, y1: frame.top, x2: frame.left, y2: frame.bottom, stroke: "#444444")
    svg.line(
      x1: frame.left, y1: frame.bottom, x2: frame.right, y2: frame.bottom, stroke: "#444444")
    svg.text(
      "Bytes", x: (frame.left + frame.right) / 2, y: frame.bottom + 44, size: 13, anchor: .middle)

    for (index, entry) in entries.enumerated() {
      let top = frame.top + rowHeight * Double(index)
      let color = color(index: index)
      let bytes = entry.mean[.sizeBytes]
      let barHeight = hasCheckpoints ? 16.0 : 20.0
      let barTop = top + (hasCheckpoints ? 5 : (rowHeight - barHeight) / 2)
      svg.text(
        entry.configuration, x: frame.left - 10, y: top + rowHeight / 2 + 5, size: 13,
        anchor: .end, weight: "bold")
      svg.rect(
        x: frame.left, y: barTop, width: x(bytes) - frame.left, height: barHeight, fill: color)
      let parameters = Format.grouped(Int(entry.mean[.parameters].rounded()))
      barLabel(
        &svg, "\(Format.bytes(Int(bytes.rounded()))) · \(parameters) parameters", end: x(bytes),
        left: frame.left, y: barTop + barHeight / 2 + 4, ink: "#222222", insideInk: "#ffffff")
      if let file = checkpointBytes[entry.configuration] {
        let fileTop = barTop + barHeight + 3
        svg.rect(
          x: frame.left, y: fileTop, width: x(Double(file)) - frame.left, height: barHeight,
          fill: color, opacity: 0.4)
        barLabel(
          &svg, "\(Format.bytes(file)) file", end: x(Double(file)), left: frame.left,
          y: fileTop + barHeight / 2 + 4, ink: "#555555", insideInk: "#222222")
      }
    }

    if hasCheckpoints {
      let legendY = 50.0
      svg.rect(x: frame.left, y: legendY - 10, width: 14, height: 12, fill: "#555555")
      svg.text("float32 parameters", x: frame.left + 20, y: legendY, size: 12)
      svg.rect(
        x: frame.left + 170, y: legendY - 10, width: 14, height: 12, fill: "#555555",
        opacity: 0.4)
      svg.text("checkpoint file (safetensors)", x: frame.left + 190, y: legendY, size: 12)
    }
    return svg.xml
  }

  /// A bar's value label: right of the bar's end in `ink`, or inside the bar in `insideInk` when
  /// it would run off the canvas.
  private static func barLabel(
    _ svg: inout SVGDocument, _ text: String, end: Double, left: Double, y: Double, ink: String,
    insideInk: String
  ) {
    let width = textWidth(text, size: 12)
    if end + 6 + width <= svg.width - 8 || end - left < width + 12 {
      svg.text(text, x: end + 6, y: y, size: 12, fill: ink)
    } else {
      svg.text(text, x: end - 6, y: y, size: 12, anchor: .end, weight: "bold", fill: insideInk)
    }
  }
}
