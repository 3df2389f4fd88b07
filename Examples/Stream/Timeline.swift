// The timeline figure of `stream`: a band of labels per row over one recording.
import Foundation

/// An SVG timeline: one band per row, a colour per class, grey for unlabelled or unknown.
func timeline(
  rows: [(name: String, labels: [Int])], classNames: [String], sampleRate: Double, title: String
) -> String {
  let colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
  let (width, left, band, gap, top) = (960.0, 150.0, 34.0, 14.0, 40.0)
  let samples = rows.first?.labels.count ?? 1
  let scale = (width - left - 20) / Double(samples)
  let height = top + Double(rows.count) * (band + gap) + 70
  var svg = """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
    font-family="sans-serif" font-size="12">
    <rect width="100%" height="100%" fill="white"/>
    <text x="\(Int(left))" y="22" font-size="14">\(title)</text>

    """
  for (r, row) in rows.enumerated() {
    let y = top + Double(r) * (band + gap)
    svg += "<text x=\"8\" y=\"\(Int(y + band / 2 + 4))\">\(row.name)</text>\n"
    var start = 0
    while start < row.labels.count {
      var end = start
      while end < row.labels.count && row.labels[end] == row.labels[start] { end += 1 }
      let label = row.labels[start]
      let colour = label >= 0 && label < colours.count ? colours[label] : "#d0d0d0"
      svg += String(
        format: "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%.0f\" fill=\"%@\"/>\n",
        left + Double(start) * scale, y, Double(end - start) * scale, band, colour)
      start = end
    }
  }
  // Time axis in minutes.
  let axisY = top + Double(rows.count) * (band + gap)
  let minutes = Double(samples) / sampleRate / 60
  for minute in 0...Int(minutes) {
    let x = left + Double(minute) * 60 * sampleRate * scale
    svg += String(
      format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#444\"/>"
        + "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d min</text>\n",
      x, x, axisY - 8, axisY - 2, x, axisY + 10, minute)
  }
  // Legend.
  var x = left
  for (c, name) in classNames.enumerated() {
    svg += String(
      format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%@\"/>"
        + "<text x=\"%.0f\" y=\"%.0f\">%@</text>\n",
      x, axisY + 24, colours[c % colours.count], x + 16, axisY + 34, name.lowercased())
    x += 16 + Double(name.count) * 7.2 + 14
  }
  svg += String(
    format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"#d0d0d0\"/>"
      + "<text x=\"%.0f\" y=\"%.0f\">unlabelled / unknown</text>\n",
    x, axisY + 24, x + 16, axisY + 34)
  return svg + "</svg>\n"
}
