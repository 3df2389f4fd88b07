import Foundation
import Layers
import Tensor

/// A model as dependency-free C99: a header `NAME.h` and a source file `NAME.c` with one entry
/// point, `int NAME_predict(const float window[T][C], float scores[K])`, which takes one raw
/// sensor window (the z-score is in the file), writes the `K` scores and returns the arg-max
/// class.
///
/// The source holds the weights as `const` arrays and every activation in one static arena
/// sized at generation time: no `malloc`, no I/O, and from the C library only `expf` (float
/// models with attention) or nothing at all (int8 models, whose gates are lookup tables).
public struct CSource: Sendable, Equatable {
  /// The C identifier prefixing every public symbol, and the files' base name.
  public var name: String
  /// The text of `NAME.h`.
  public var header: String
  /// The text of `NAME.c`.
  public var implementation: String
  /// The bytes of constant data: weights, biases, scales and tables.
  public var weightBytes: Int
  /// The bytes of the static activation arena.
  public var arenaBytes: Int
  /// The multiply-accumulates of one window.
  public var multiplyAccumulates: Int

  /// `text` as a C identifier: every character other than an ASCII letter, digit or `_` becomes
  /// `_`, and a leading digit gets a `_` before it (`"LM-Att-seed1"` → `"LM_Att_seed1"`).
  public static func identifier(from text: String) -> String {
    var result = String(
      text.unicodeScalars.map { scalar -> Character in
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
          ? Character(scalar) : "_"
      })
    if result.isEmpty || result.first!.isNumber { result = "_" + result }
    return result
  }

  /// Writes `NAME.h` and `NAME.c` into `directory`, each atomically (to `<file>.partial`, then
  /// renamed over the file), so a crash never leaves a half-written source file.
  ///
  /// - Returns: The two files' URLs.
  /// - Throws: ``ExportError/unwritable(path:reason:)``.
  @discardableResult
  public func write(to directory: URL) throws(ExportError) -> (header: URL, source: URL) {
    let header = directory.appendingPathComponent(name + ".h")
    let source = directory.appendingPathComponent(name + ".c")
    try writeAtomically(Data(self.header.utf8), to: header)
    try writeAtomically(Data(implementation.utf8), to: source)
    return (header, source)
  }

  static func validate(name: String) throws(ExportError) {
    guard name == identifier(from: name) else {
      throw .unsupported("'\(name)' is not a C identifier (try '\(identifier(from: name))')")
    }
  }
}

extension InferenceGraph {
  /// The graph as float32 C99 (see ``CSource``): the input z-score from the card's
  /// `InputNormalization`, batch normalization folded into the convolution before it, ReLU
  /// fused into the layer before it, CBAM gates with `expf`.
  ///
  /// Kernels exist for the CNN family: `Conv1D`, `Dense` (on one vector per window),
  /// `MaxPool1D`, global average and max pooling, `ReLU`, `BatchNorm` after a convolution or
  /// dense layer, and CBAM's channel and spatial attention over time.
  ///
  /// - Parameter name: A C identifier (see ``CSource/identifier(from:)``).
  /// - Throws: ``ExportError/unsupported(_:)`` naming the first step without a kernel, or for a
  ///   graph without a normalization or window length, a non-finite weight or a bad name.
  public func cSource(name: String) throws(ExportError) -> CSource {
    try CSource.validate(name: name)
    let model = try LoweredModel(self)
    return try FloatCWriter(model: model, name: name, card: card).source()
  }
}

/// C text helpers shared by the float and int8 writers.
enum CText {
  static func floats(_ name: String, _ values: [Float]) throws(ExportError) -> String {
    guard values.allSatisfy(\.isFinite) else {
      throw .unsupported("\(name): a weight is not finite")
    }
    return array("static const float \(name)[\(values.count)]", values.map { "\($0)f" })
  }

  static func integers(_ declaration: String, _ values: [some BinaryInteger]) -> String {
    array(
      declaration,
      values.map { value in
        // INT32_MIN cannot be written as a literal; the requantizer never produces it.
        "\(value)"
      })
  }

  static func array(_ declaration: String, _ items: [String]) -> String {
    var lines: [String] = []
    var line = " "
    for item in items {
      if line.count + item.count + 2 > 98 {
        lines.append(line)
        line = " "
      }
      line += " " + item + ","
    }
    if line != " " { lines.append(line) }
    return declaration + " = {\n" + lines.joined(separator: "\n") + "\n};\n"
  }

  static func header(
    name: String, kind: String, timeSteps: Int, channels: Int, classes: Int, card: ModelCard,
    arenaBytes: Int
  ) -> String {
    let guardName = name.uppercased() + "_H"
    let upper = name.uppercased()
    var classList = ""
    if let names = card.classNames {
      classList = " * Classes, in score order: " + names.joined(separator: ", ") + ".\n"
    }
    var channelNames = ""
    if let names = card.channelNames {
      channelNames = " * Channels, in input order: " + names.joined(separator: ", ") + ".\n"
    }
    return """
      /* \(name): \(kind), generated by HARDistill's exporter. Dependency-free C99.
       *
       * One raw sensor window in (the z-score is in the model), scores out:
       *   int class = \(name)_predict(window, scores);
       * The model keeps its activations in one static arena of \(arenaBytes) bytes, so calls
       * must not overlap (one thread at a time).
      \(classList)\(channelNames) */
      #ifndef \(guardName)
      #define \(guardName)

      #define \(upper)_TIME_STEPS \(timeSteps)
      #define \(upper)_CHANNELS \(channels)
      #define \(upper)_CLASSES \(classes)
      #define \(upper)_ARENA_BYTES \(arenaBytes)

      /* Classifies one window of raw samples, window[t][c]; writes the \(classes)
       * scores (logits) and returns the index of the largest (the first, on a tie). */
      int \(name)_predict(
          const float window[\(upper)_TIME_STEPS][\(upper)_CHANNELS], float scores[\(upper)_CLASSES]);

      #endif

      """
  }
}

/// Writes a ``LoweredModel`` as float C.
private struct FloatCWriter {
  var model: LoweredModel
  var name: String
  var card: ModelCard

  func source() throws(ExportError) -> CSource {
    let plan = model.plan
    var constants = try CText.floats("input_mean", model.mean)
    constants += try CText.floats("input_std", model.standardDeviation)
    var used: Set<String> = []
    var calls: [String] = []
    for (index, op) in model.ops.enumerated() {
      let (input, output, scratch) = plan.offsets[index]
      let x = "arena + \(input)"
      let y = "arena + \(output)"
      let s = "arena + \(scratch)"
      switch op {
      case .conv(let c):
        used.insert("conv")
        constants += try CText.floats("w\(index)", c.filter)
        constants += try CText.floats("b\(index)", c.bias)
        calls.append(
          "conv(\(x), \(y), w\(index), b\(index), \(c.length), \(c.inChannels), \(c.outLength), "
            + "\(c.outChannels), \(c.kernel), \(c.stride), \(c.dilation), \(c.pad), "
            + "\(c.relu ? 1 : 0)); /* \(c.name) */")
      case .maxPool(let length, let channels, let kernel, let stride, let pad, let outLength):
        used.insert("max_pool")
        calls.append(
          "max_pool(\(x), \(y), \(length), \(channels), \(kernel), \(stride), \(pad), "
            + "\(outLength));")
      case .globalAvgPool(let length, let channels):
        used.insert("global_avg_pool")
        calls.append("global_avg_pool(\(x), \(y), \(length), \(channels));")
      case .globalMaxPool(let length, let channels):
        used.insert("global_max_pool")
        calls.append("global_max_pool(\(x), \(y), \(length), \(channels));")
      case .relu(let count):
        used.insert("relu")
        calls.append("relu(\(x), \(count));")
      case .channelAttention(let length, let channels, let hidden, let out, let h):
        used.formUnion(["sigmoid", "channel_attention"])
        constants += try CText.floats("w\(index)_hidden", hidden)
        constants += try CText.floats("w\(index)_output", out)
        calls.append(
          "channel_attention(\(x), \(s), w\(index)_hidden, w\(index)_output, \(length), "
            + "\(channels), \(h));")
      case .spatialAttention(let length, let channels, let kernel, let filter):
        used.formUnion(["sigmoid", "spatial_attention"])
        constants += try CText.floats("w\(index)_filter", filter)
        calls.append(
          "spatial_attention(\(x), \(s), w\(index)_filter, \(length), \(channels), \(kernel));")
      }
    }
    let arenaBytes = 4 * plan.size
    let upper = name.uppercased()
    var text = """
      /* \(name): float32 C99 generated by HARDistill's exporter; see \(name).h. */
      #include "\(name).h"

      """
    if used.contains("sigmoid") { text += "#include <math.h>\n" }
    text += "\n" + constants + "\nstatic float arena[\(plan.size)];\n\n"
    for helper in [
      "sigmoid", "conv", "max_pool", "global_avg_pool", "global_max_pool", "relu",
      "channel_attention", "spatial_attention",
    ] where used.contains(helper) {
      text += Self.helpers[helper]! + "\n"
    }
    text += """
      int \(name)_predict(
          const float window[\(upper)_TIME_STEPS][\(upper)_CHANNELS], float scores[\(upper)_CLASSES]) {
        int t, c, best = 0;
        for (t = 0; t < \(upper)_TIME_STEPS; ++t) {
          for (c = 0; c < \(upper)_CHANNELS; ++c) {
            arena[t * \(upper)_CHANNELS + c] = (window[t][c] - input_mean[c]) / input_std[c];
          }
        }

      """
    for call in calls { text += "  " + call + "\n" }
    text += """
        for (c = 0; c < \(upper)_CLASSES; ++c) {
          scores[c] = arena[\(plan.outputOffset) + c];
          if (scores[c] > scores[best]) best = c;
        }
        return best;
      }

      """
    return CSource(
      name: name,
      header: CText.header(
        name: name, kind: "float32", timeSteps: model.timeSteps, channels: model.channels,
        classes: model.outputCount, card: card, arenaBytes: arenaBytes),
      implementation: text, weightBytes: 4 * model.parameterCount, arenaBytes: arenaBytes,
      multiplyAccumulates: model.multiplyAccumulates)
  }

  static let helpers: [String: String] = [
    "sigmoid": """
    static float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

    """,
    "conv": """
    /* y[t][o] = b[o] + sum over j, i of x[t*stride + j*dilation - pad][i] * w[j][i][o]. */
    static void conv(const float *x, float *y, const float *w, const float *b, int len, int cin,
                     int out_len, int cout, int k, int stride, int dilation, int pad, int relu) {
      int t, o, j, i;
      for (t = 0; t < out_len; ++t) {
        for (o = 0; o < cout; ++o) {
          float acc = b[o];
          for (j = 0; j < k; ++j) {
            int s = t * stride + j * dilation - pad;
            if (s < 0 || s >= len) continue;
            for (i = 0; i < cin; ++i) acc += x[s * cin + i] * w[(j * cin + i) * cout + o];
          }
          y[t * cout + o] = (relu && acc < 0.0f) ? 0.0f : acc;
        }
      }
    }

    """,
    "max_pool": """
    static void max_pool(const float *x, float *y, int len, int ch, int k, int stride, int pad,
                         int out_len) {
      int t, c, j;
      for (t = 0; t < out_len; ++t) {
        for (c = 0; c < ch; ++c) {
          int first = 1;
          float best = 0.0f;
          for (j = 0; j < k; ++j) {
            int s = t * stride + j - pad;
            if (s < 0 || s >= len) continue;
            if (first || x[s * ch + c] > best) best = x[s * ch + c];
            first = 0;
          }
          y[t * ch + c] = best;
        }
      }
    }

    """,
    "global_avg_pool": """
    static void global_avg_pool(const float *x, float *y, int len, int ch) {
      int t, c;
      for (c = 0; c < ch; ++c) y[c] = 0.0f;
      for (t = 0; t < len; ++t) {
        for (c = 0; c < ch; ++c) y[c] += x[t * ch + c];
      }
      for (c = 0; c < ch; ++c) y[c] /= (float)len;
    }

    """,
    "global_max_pool": """
    static void global_max_pool(const float *x, float *y, int len, int ch) {
      int t, c;
      for (c = 0; c < ch; ++c) y[c] = x[c];
      for (t = 1; t < len; ++t) {
        for (c = 0; c < ch; ++c) if (x[t * ch + c] > y[c]) y[c] = x[t * ch + c];
      }
    }

    """,
    "relu": """
    static void relu(float *x, int n) {
      int i;
      for (i = 0; i < n; ++i) if (x[i] < 0.0f) x[i] = 0.0f;
    }

    """,
    "channel_attention": """
    /* CBAM channel attention in place: x[t][c] *= sigmoid(MLP(mean_t x)[c] + MLP(max_t x)[c]),
     * MLP(v) = relu(v . hidden) . output. Scratch s: 3*ch + 2*h floats. */
    static void channel_attention(float *x, float *s, const float *hidden, const float *output,
                                  int len, int ch, int h) {
      float *avg = s, *mx = s + ch, *gate = s + 2 * ch, *hid = s + 3 * ch;
      int t, c, j;
      for (c = 0; c < ch; ++c) {
        avg[c] = 0.0f;
        mx[c] = x[c];
      }
      for (t = 0; t < len; ++t) {
        for (c = 0; c < ch; ++c) {
          avg[c] += x[t * ch + c];
          if (x[t * ch + c] > mx[c]) mx[c] = x[t * ch + c];
        }
      }
      for (c = 0; c < ch; ++c) avg[c] /= (float)len;
      for (j = 0; j < h; ++j) {
        float a = 0.0f, m = 0.0f;
        for (c = 0; c < ch; ++c) {
          a += avg[c] * hidden[c * h + j];
          m += mx[c] * hidden[c * h + j];
        }
        hid[j] = a > 0.0f ? a : 0.0f;
        hid[h + j] = m > 0.0f ? m : 0.0f;
      }
      for (c = 0; c < ch; ++c) {
        float acc = 0.0f;
        for (j = 0; j < h; ++j) acc += hid[j] * output[j * ch + c];
        for (j = 0; j < h; ++j) acc += hid[h + j] * output[j * ch + c];
        gate[c] = sigmoid(acc);
      }
      for (t = 0; t < len; ++t) {
        for (c = 0; c < ch; ++c) x[t * ch + c] *= gate[c];
      }
    }

    """,
    "spatial_attention": """
    /* CBAM spatial attention in place: x[t][c] *= sigmoid(conv([mean_c x, max_c x], filter)[t]),
     * a `same` convolution of k taps, filter[j][2]. Scratch s: 3*len floats. */
    static void spatial_attention(float *x, float *s, const float *filter, int len, int ch,
                                  int k) {
      float *maps = s, *gate = s + 2 * len;
      int t, c, j, pad = (k - 1) / 2;
      for (t = 0; t < len; ++t) {
        float sum = 0.0f, best = x[t * ch];
        for (c = 0; c < ch; ++c) {
          sum += x[t * ch + c];
          if (x[t * ch + c] > best) best = x[t * ch + c];
        }
        maps[2 * t] = sum / (float)ch;
        maps[2 * t + 1] = best;
      }
      for (t = 0; t < len; ++t) {
        float acc = 0.0f;
        for (j = 0; j < k; ++j) {
          int u = t + j - pad;
          if (u < 0 || u >= len) continue;
          acc += maps[2 * u] * filter[2 * j] + maps[2 * u + 1] * filter[2 * j + 1];
        }
        gate[t] = sigmoid(acc);
      }
      for (t = 0; t < len; ++t) {
        for (c = 0; c < ch; ++c) x[t * ch + c] *= gate[t];
      }
    }

    """,
  ]
}
