import Foundation

/// Number formatting shared by the Markdown report and the figures: locale-independent, so
/// reports read the same on every machine.
public enum Format {
  /// `value` with `digits` decimals, e.g. `fixed(0.91234, 2)` is `"0.91"`.
  public static func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    let text = String(format: "%.\(max(0, digits))f", value)
    // "-0.00" reads as a sign where there is none.
    return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
  }

  /// An integer with thousands separators, e.g. `"168,020"`.
  public static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
      if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
      result.append(digit)
    }
    return value < 0 ? "-" + result : result
  }

  /// A count with an SI suffix and at most three significant digits, trailing zeros dropped,
  /// e.g. `"21.8 M"`, `"512 k"`, `"1.5 k"`, `"10 M"`, `"774"`.
  public static func si(_ value: Double) -> String {
    let magnitude = abs(value)
    let (scale, suffix): (Double, String) =
      magnitude >= 1e9
      ? (1e9, " G")
      : magnitude >= 1e6
        ? (1e6, " M")
        : magnitude >= 1e3 ? (1e3, " k") : (1, "")
    let scaled = value / scale
    let digits = abs(scaled) >= 100 ? 0 : abs(scaled) >= 10 ? 1 : 2
    var text = fixed(scaled, digits)
    if text.contains(".") {
      while text.hasSuffix("0") { text.removeLast() }
      if text.hasSuffix(".") { text.removeLast() }
    }
    return text + suffix
  }

  /// A byte count in decimal units, e.g. `"14.1 kB"`, `"672 kB"`, `"900 B"`.
  public static func bytes(_ value: Int) -> String {
    let text = si(Double(value))
    return text.last?.isLetter == true ? text + "B" : text + " B"
  }
}
