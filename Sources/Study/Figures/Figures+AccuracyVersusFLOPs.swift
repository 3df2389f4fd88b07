import Foundation
import Metrics

extension Figures {
  /// A bubble chart of mean test accuracy (or another score, `metric`) against forward FLOPs per
  /// window, one bubble per configuration.
  ///
  /// The FLOPs axis is logarithmic; bubble *area* is proportional to the parameter count (a
  /// legend shows reference sizes); vertical bars show ± one sample standard deviation of the
  /// accuracy over seeds. Each bubble is labelled with its configuration and mean accuracy;
  /// labels that would overlap are moved apart and joined to their bubble by a thin line.
  ///
  /// - Parameters:
  ///   - results: The study; its summary gives means, standard deviations and costs.
  ///   - metric: The score on the vertical axis: ``RunMetric/accuracy`` (default),
  ///     ``RunMetric/macroF1`` or ``RunMetric/weightedF1``, shown in percent; any other metric
  ///     falls back to accuracy.
  ///   - title: The heading; by default it names the score and the data set.
  public static func accuracyVersusFLOPs(
    _ results: StudyResults, metric: RunMetric = .accuracy, title: String? = nil
  ) -> String {
    let metric: RunMetric = [.macroF1, .weightedF1].contains(metric) ? metric : .accuracy
    let scoreName =
      switch metric {
      case .macroF1: "macro-F1"
      case .weightedF1: "weighted-F1"
      default: "accuracy"
      }
    let heading = title ?? "Test \(scoreName) vs. forward FLOPs — \(results.dataset)"
    var svg = SVGDocument(width: 840, height: 560, title: heading)
    let frame = Frame(left: 90, top: 70, right: 640, bottom: 480)
    let seeds = results.summary.map { results.runs(of: $0.configuration).count }.max() ?? 1
    drawTitle(
      &svg, heading,
      subtitle: "\(results.family) models; mean over \(seeds) seed\(seeds == 1 ? "" : "s"); "
        + "bubble area ∝ parameters")

    let points = results.summary.enumerated().map { index, entry in
      (
        name: entry.configuration, color: color(index: index), flops: max(1, entry.mean[.flops]),
        accuracy: 100 * entry.mean[metric], spread: 100 * entry.std[metric],
        parameters: entry.mean[.parameters]
      )
    }
    let flops = points.map(\.flops)
    let x = Scale.logarithmic(
      covering: (flops.min() ?? 1)...(flops.max() ?? 10), range: (frame.left, frame.right))
    let low = points.map { $0.accuracy - $0.spread }.min() ?? 0
    let high = points.map { $0.accuracy + $0.spread }.max() ?? 100
    // Headroom so the largest bubbles stay inside the frame.
    let pad = max(0.5, (high - low) * 0.12)
    let y = Scale.linear(
      covering: (low - pad)...min(100, high + pad), range: (frame.bottom, frame.top))
    drawAxes(
      &svg, frame: frame, x: x, y: y, xTitle: "Forward FLOPs per window (log scale)",
      yTitle: "Test \(scoreName) (%)")

    let maxParameters = max(1, points.map(\.parameters).max() ?? 1)
    let maxRadius = 34.0
    // Area ∝ parameters; 2.5 px at least so that a tiny model stays visible.
    func radius(_ parameters: Double) -> Double {
      max(2.5, maxRadius * (max(0, parameters) / maxParameters).squareRoot())
    }

    // Error bars of configurations at (nearly) the same FLOPs are spread 5 px apart around the
    // bubble centre, so each bar stays readable; the bubbles themselves stay at their true x.
    var dodge = Array(repeating: 0.0, count: points.count)
    var groupSpread = Array(repeating: 0.0, count: points.count)
    let byX = points.indices.sorted { points[$0].flops < points[$1].flops }
    var groupStart = 0
    while groupStart < byX.count {
      var groupEnd = groupStart + 1
      while groupEnd < byX.count,
        x(points[byX[groupEnd]].flops) - x(points[byX[groupStart]].flops) < 4
      {
        groupEnd += 1
      }
      let members = byX[groupStart..<groupEnd].sorted { points[$0].accuracy < points[$1].accuracy }
      for (rank, index) in members.enumerated() {
        dodge[index] = (Double(rank) - Double(members.count - 1) / 2) * 5
        groupSpread[index] = Double(members.count - 1) / 2 * 5
      }
      groupStart = groupEnd
    }

    // Largest first, so small bubbles are drawn on top and stay visible.
    for index in points.indices.sorted(by: { points[$0].parameters > points[$1].parameters }) {
      let point = points[index]
      let (cx, cy) = (x(point.flops), y(point.accuracy))
      if point.spread > 0 {
        let (top, bottom) = (y(point.accuracy + point.spread), y(point.accuracy - point.spread))
        let bx = cx + dodge[index]
        svg.line(x1: bx, y1: top, x2: bx, y2: bottom, stroke: point.color, strokeWidth: 1.5)
        svg.line(x1: bx - 4, y1: top, x2: bx + 4, y2: top, stroke: point.color, strokeWidth: 1.5)
        svg.line(
          x1: bx - 4, y1: bottom, x2: bx + 4, y2: bottom, stroke: point.color, strokeWidth: 1.5)
      }
      svg.circle(
        cx: cx, cy: cy, r: radius(point.parameters), fill: point.color, stroke: point.color,
        strokeWidth: 1.5, opacity: 0.35)
      svg.circle(cx: cx, cy: cy, r: 2, fill: point.color)
    }

    // Labels: right of the bubble (left when there is no room), pushed apart vertically.
    struct Label {
      var text: String, x: Double, y: Double, anchorY: Double, bubbleX: Double,
        edge: Double, rightSide: Bool, color: String
    }
    var labels: [Label] = points.indices.map { index in
      let point = points[index]
      // Clear of the bubble and of every dodged error bar beside it.
      let r = max(radius(point.parameters), groupSpread[index] + 5)
      let (cx, cy) = (x(point.flops), y(point.accuracy))
      let text = "\(point.name) (\(Format.fixed(point.accuracy, 1)) %)"
      let rightSide = cx + r + 6 + textWidth(text, size: 12) <= frame.right + 190
      return Label(
        text: text, x: rightSide ? cx + r + 6 : cx - r - 6, y: cy + 4, anchorY: cy, bubbleX: cx,
        edge: rightSide ? cx + r : cx - r, rightSide: rightSide, color: point.color)
    }
    labels.sort { $0.y < $1.y }
    for i in labels.indices {
      for j in 0..<i {
        let spanI =
          labels[i].rightSide
          ? labels[i].x...(labels[i].x + textWidth(labels[i].text, size: 12))
          : (labels[i].x - textWidth(labels[i].text, size: 12))...labels[i].x
        let spanJ =
          labels[j].rightSide
          ? labels[j].x...(labels[j].x + textWidth(labels[j].text, size: 12))
          : (labels[j].x - textWidth(labels[j].text, size: 12))...labels[j].x
        if spanI.overlaps(spanJ), labels[i].y - labels[j].y < 15 { labels[i].y = labels[j].y + 15 }
      }
    }
    for label in labels {
      if abs(label.y - 4 - label.anchorY) > 3 {
        svg.line(
          x1: label.edge, y1: label.anchorY, x2: label.rightSide ? label.x - 2 : label.x + 2,
          y2: label.y - 4, stroke: "#777777", strokeWidth: 0.8)
      }
      svg.text(
        label.text, x: label.x, y: label.y, size: 12, anchor: label.rightSide ? .start : .end,
        weight: "bold", fill: label.color, halo: true)
    }

    // Size legend: reference bubbles at powers of ten below the largest model.
    let legendX = frame.right + 70
    svg.text("Parameters", x: legendX, y: frame.top + 8, size: 13, anchor: .middle, weight: "bold")
    var top = frame.top + 22
    var reference = pow(10, floor(log10(maxParameters)))
    for _ in 0..<3 where reference >= 1 {
      let r = radius(reference)
      svg.circle(
        cx: legendX, cy: top + r, r: r, fill: "#bbbbbb", stroke: "#777777", opacity: 0.4)
      svg.text(Format.si(reference), x: legendX + max(r, 8) + 8, y: top + r + 4, size: 12)
      top += 2 * r + 14
      reference /= 10
    }
    if seeds > 1 {
      let barTop = top + 6
      svg.line(x1: legendX - 40, y1: barTop, x2: legendX - 40, y2: barTop + 24, strokeWidth: 1.5)
      svg.line(x1: legendX - 45, y1: barTop, x2: legendX - 35, y2: barTop, strokeWidth: 1.5)
      svg.line(
        x1: legendX - 45, y1: barTop + 24, x2: legendX - 35, y2: barTop + 24, strokeWidth: 1.5)
      svg.text("± 1 s.d.", x: legendX - 28, y: barTop + 11, size: 12)
      svg.text("over seeds", x: legendX - 28, y: barTop + 26, size: 12)
    }
    return svg.xml
  }
}
