import Foundation

/// The built-in synthetic data set: smartphone-like waist recordings of six activities,
/// generated from a seed, so examples and tests run without downloading anything.
///
/// Each window has the 9 channels of UCI HAR (``UCIHAR/channelNames``: body acceleration in g,
/// angular velocity in rad/s, total acceleration in g) over 128 samples at 50 Hz. The model
/// behind it:
/// - **Gait.** Walking, upstairs and downstairs are periodic at a step frequency near 1.9, 1.6
///   and 2.0 Hz, each with its own mix of vertical, forward and lateral (half-frequency)
///   acceleration, harmonics and rotation rates.
/// - **Posture.** Gravity's direction in the device frame depends on the activity: upright when
///   walking or standing (leaning forward on stairs up, back on stairs down), tilted when
///   sitting, nearly horizontal when laying; static activities add slow sway only.
/// - **People.** Every subject has an amplitude and frequency scale, a gait shape (harmonic
///   strengths) and a device orientation of their own, so the same activity looks different
///   across subjects, and sitting and standing, or walking and stairs, overlap.
/// - **Noise and transitions.** Gaussian sensor noise on every channel; some windows begin in
///   another activity and change over half a second into the labelled one.
///
/// Same seed and options, same windows (bit for bit on one platform).
public enum Synthetic {
  /// The six activities, by class index.
  public static let activityNames = UCIHAR.activityNames

  /// What to generate.
  public struct Options: Sendable, Equatable {
    /// The number of subjects, numbered 1…`subjects`.
    public var subjects: Int
    /// Windows per subject and activity.
    public var windowsPerActivity: Int
    /// Time steps per window (at 50 Hz).
    public var length: Int
    /// The fraction of windows that begin in another activity.
    public var transitionFraction: Double
    /// A factor on every noise level; 0 gives noise-free signals.
    public var noiseScale: Double

    /// Options with the defaults of the built-in data set: 30 subjects, 40 windows each per
    /// activity, 128 samples, 15 % transitions, unit noise.
    public init(
      subjects: Int = 30, windowsPerActivity: Int = 40, length: Int = 128,
      transitionFraction: Double = 0.15, noiseScale: Double = 1
    ) {
      self.subjects = subjects
      self.windowsPerActivity = windowsPerActivity
      self.length = length
      self.transitionFraction = transitionFraction
      self.noiseScale = noiseScale
    }
  }

  /// Generates windows of every subject, in subject, activity, then window order.
  ///
  /// A subject's windows depend only on `seed`, the subject number and the per-window options,
  /// not on how many subjects are generated.
  /// - Returns: Windows shaped `[subjects * 6 * windowsPerActivity, length, 9]`.
  public static func generate(
    _ options: Options = Options(), seed: UInt64
  ) throws(DatasetError) -> LabeledWindows {
    guard options.subjects > 0, options.windowsPerActivity > 0, options.length > 0 else {
      throw .invalidOption(
        name: "synthetic sizes",
        value: "\(options.subjects) \(options.windowsPerActivity) \(options.length)",
        expected: "positive subjects, windows per activity and length")
    }
    guard (0...1).contains(options.transitionFraction), options.noiseScale >= 0 else {
      throw .invalidOption(
        name: "synthetic transitions and noise",
        value: "\(options.transitionFraction) \(options.noiseScale)",
        expected: "a fraction in 0...1 and a noise scale ≥ 0")
    }
    var values: [Float] = []
    var labels: [Int] = []
    var subjects: [Int] = []
    let size = options.length * 9
    values.reserveCapacity(options.subjects * 6 * options.windowsPerActivity * size)
    for subject in 1...options.subjects {
      var generator = SplitMix64(seed: seed ^ (UInt64(subject) &* 0x9E37_79B9_7F4A_7C15))
      let person = Person(using: &generator, noiseScale: options.noiseScale)
      for activity in 0..<6 {
        for _ in 0..<options.windowsPerActivity {
          values += person.window(
            activity: activity, length: options.length,
            transitionFraction: options.transitionFraction, using: &generator)
          labels.append(activity)
          subjects.append(subject)
        }
      }
    }
    return LabeledWindows(
      values: values, shape: [labels.count, options.length, 9], labels: labels,
      subjects: subjects, classNames: activityNames)
  }

  /// The built-in data set, split by subject: the last 30 % of subjects (rounded up) are test.
  ///
  /// - Returns: `train` and `test` shaped `[windows, 128, 9]` with the default options.
  public static func load(
    _ options: Options = Options(), seed: UInt64 = 0
  ) throws(DatasetError) -> TrainTestSplit {
    let windows = try generate(options, seed: seed)
    let testCount = Swift.max(1, (options.subjects * 3 + 9) / 10)
    let split = windows.split(
      testSubjects: (options.subjects - testCount + 1)...options.subjects)
    try split.validate(source: "synthetic")
    return split
  }
}

/// How one activity moves the device: gait amplitudes (g), rotation rates (rad/s), frequency.
private struct Motion {
  var frequency: Double  // steps per second; 0 for static postures
  var vertical: Double
  var forward: Double
  var lateral: Double
  var harmonic2: Double
  var harmonic3: Double
  var pitchRate: Double
  var yawRate: Double
  var rollRate: Double
  var sway: Double  // slow postural sway (g)
  var lean: Double  // forward lean of the device (radians)
  var roll: Double  // sideways tilt (radians)
  var lying: Bool

  // Walking, upstairs, downstairs, sitting, standing, laying.
  static let all: [Motion] = [
    Motion(
      frequency: 1.9, vertical: 0.30, forward: 0.15, lateral: 0.08, harmonic2: 0.35,
      harmonic3: 0.10, pitchRate: 0.50, yawRate: 0.30, rollRate: 0.20, sway: 0, lean: 0.05,
      roll: 0, lying: false),
    Motion(
      frequency: 1.6, vertical: 0.26, forward: 0.20, lateral: 0.10, harmonic2: 0.60,
      harmonic3: 0.08, pitchRate: 0.70, yawRate: 0.25, rollRate: 0.25, sway: 0, lean: 0.15,
      roll: 0, lying: false),
    Motion(
      frequency: 2.0, vertical: 0.40, forward: 0.12, lateral: 0.10, harmonic2: 0.30,
      harmonic3: 0.30, pitchRate: 0.60, yawRate: 0.40, rollRate: 0.30, sway: 0, lean: -0.08,
      roll: 0, lying: false),
    Motion(
      frequency: 0, vertical: 0, forward: 0, lateral: 0, harmonic2: 0, harmonic3: 0,
      pitchRate: 0, yawRate: 0, rollRate: 0, sway: 0.008, lean: -0.30, roll: 0.05, lying: false),
    Motion(
      frequency: 0, vertical: 0, forward: 0, lateral: 0, harmonic2: 0, harmonic3: 0,
      pitchRate: 0, yawRate: 0, rollRate: 0, sway: 0.015, lean: 0.02, roll: 0, lying: false),
    Motion(
      frequency: 0, vertical: 0, forward: 0, lateral: 0, harmonic2: 0, harmonic3: 0,
      pitchRate: 0, yawRate: 0, rollRate: 0, sway: 0.005, lean: 0, roll: 0.15, lying: true),
  ]
}

/// One synthetic subject: how they move and how their phone sits.
private struct Person {
  var amplitude: Double
  var frequency: Double
  var harmonics: Double
  var accelerationNoise: Double
  var gyroNoise: Double
  /// Device orientation: rows of a rotation matrix from body to device frame.
  var rotation: [[Double]]

  init(using generator: inout SplitMix64, noiseScale: Double) {
    amplitude = generator.uniform(0.7...1.3)
    frequency = generator.uniform(0.85...1.15)
    harmonics = generator.uniform(0.6...1.4)
    accelerationNoise = generator.uniform(0.01...0.03) * noiseScale
    gyroNoise = generator.uniform(0.02...0.06) * noiseScale
    // The phone's mounting differs by up to ~10° about each axis.
    let degree = Double.pi / 180
    rotation = Person.rotation(
      roll: generator.normal() * 8 * degree, pitch: generator.normal() * 8 * degree,
      yaw: generator.normal() * 10 * degree)
  }

  static func rotation(roll: Double, pitch: Double, yaw: Double) -> [[Double]] {
    let (cr, sr, cp, sp, cy, sy) = (
      cos(roll), sin(roll), cos(pitch), sin(pitch), cos(yaw), sin(yaw)
    )
    return [
      [cp * cy, cp * sy, -sp],
      [sr * sp * cy - cr * sy, sr * sp * sy + cr * cy, sr * cp],
      [cr * sp * cy + sr * sy, cr * sp * sy - sr * cy, cr * cp],
    ]
  }

  func rotate(_ v: (Double, Double, Double)) -> (Double, Double, Double) {
    let r = rotation
    return (
      r[0][0] * v.0 + r[0][1] * v.1 + r[0][2] * v.2,
      r[1][0] * v.0 + r[1][1] * v.1 + r[1][2] * v.2,
      r[2][0] * v.0 + r[2][1] * v.1 + r[2][2] * v.2
    )
  }

  /// Noise-free body acceleration, rotation rate and gravity of `activity` at time `t` (s),
  /// in the body frame: x up, y left, z forward.
  struct Sample {
    var body: (Double, Double, Double)
    var gyro: (Double, Double, Double)
    var gravity: (Double, Double, Double)
  }

  /// Per-window draws of one activity: phase, jitter, posture.
  struct Episode {
    var motion: Motion
    var frequency: Double
    var amplitude: Double
    var phase: Double
    var swayPhase: Double
    var lean: Double
    var roll: Double
  }

  func episode(_ activity: Int, using generator: inout SplitMix64) -> Episode {
    let motion = Motion.all[activity]
    return Episode(
      motion: motion,
      frequency: motion.frequency * frequency * generator.uniform(0.95...1.05),
      amplitude: amplitude * generator.uniform(0.9...1.1),
      phase: generator.uniform(0...(2 * Double.pi)),
      swayPhase: generator.uniform(0...(2 * Double.pi)),
      lean: motion.lean + generator.normal() * 0.07,
      roll: motion.roll + generator.normal() * 0.05)
  }

  func sample(_ e: Episode, at t: Double) -> Sample {
    let m = e.motion
    let w = 2 * Double.pi * e.frequency
    let a = e.amplitude
    let theta = w * t + e.phase
    let vertical =
      m.vertical * a
      * (sin(theta) + m.harmonic2 * harmonics * sin(2 * theta + 0.8)
        + m.harmonic3 * harmonics * sin(3 * theta + 1.9))
    let forward = m.forward * a * (sin(theta + 1.3) + 0.3 * m.harmonic2 * sin(2 * theta))
    let lateral = m.lateral * a * sin(theta / 2 + 0.4)
    let swayAngle = 2 * Double.pi * 0.3 * t + e.swayPhase
    let sway = m.sway * sin(swayAngle)
    let body = (vertical + sway * 0.3, lateral + sway, forward + sway * 0.5)
    let gyro = (
      m.yawRate * a * sin(theta / 2 + 0.9) + m.sway * 2 * cos(swayAngle),
      m.pitchRate * a * cos(theta + 0.2) + m.sway * 3 * sin(swayAngle + 1),
      m.rollRate * a * sin(theta / 2 + 2.1) + m.sway * 2 * cos(swayAngle + 2)
    )
    let gravity: (Double, Double, Double)
    if m.lying {
      gravity = (sin(e.lean) * 0.2, sin(e.roll), cos(e.roll) * cos(e.lean))
    } else {
      gravity = (cos(e.lean) * cos(e.roll), sin(e.roll), sin(e.lean) * cos(e.roll))
    }
    return Sample(body: body, gyro: gyro, gravity: gravity)
  }

  /// One window of `activity`, `[length, 9]`, possibly starting in another activity.
  func window(
    activity: Int, length: Int, transitionFraction: Double, using generator: inout SplitMix64
  ) -> [Float] {
    let main = episode(activity, using: &generator)
    var previous: Episode?
    var changeAt = 0.0
    if generator.unit() < transitionFraction {
      let other = (activity + 1 + Int(generator.next() % 5)) % 6
      previous = episode(other, using: &generator)
      // The change ends before the middle of the window, so the label holds for most of it.
      changeAt = generator.uniform(0.1...0.4) * Double(length) / 50
    }
    var result = [Float](repeating: 0, count: length * 9)
    for i in 0..<length {
      let t = Double(i) / 50
      var s = sample(main, at: t)
      if let previous {
        let u = Swift.min(1, Swift.max(0, (t - changeAt + 0.5) / 0.5))
        let blend = u * u * (3 - 2 * u)
        let p = sample(previous, at: t)
        func mix(_ x: (Double, Double, Double), _ y: (Double, Double, Double)) -> (
          Double, Double, Double
        ) {
          (
            y.0 + blend * (x.0 - y.0), y.1 + blend * (x.1 - y.1), y.2 + blend * (x.2 - y.2)
          )
        }
        s.body = mix(s.body, p.body)
        s.gyro = mix(s.gyro, p.gyro)
        let g = mix(s.gravity, p.gravity)
        let norm = Swift.max(1e-9, (g.0 * g.0 + g.1 * g.1 + g.2 * g.2).squareRoot())
        s.gravity = (g.0 / norm, g.1 / norm, g.2 / norm)
      }
      let body = rotate(s.body)
      let gyro = rotate(s.gyro)
      let gravity = rotate(s.gravity)
      let noise = (
        generator.normal() * accelerationNoise, generator.normal() * accelerationNoise,
        generator.normal() * accelerationNoise
      )
      let bodyMeasured = (body.0 + noise.0, body.1 + noise.1, body.2 + noise.2)
      let channels = [
        bodyMeasured.0, bodyMeasured.1, bodyMeasured.2,
        gyro.0 + generator.normal() * gyroNoise, gyro.1 + generator.normal() * gyroNoise,
        gyro.2 + generator.normal() * gyroNoise,
        gravity.0 + bodyMeasured.0, gravity.1 + bodyMeasured.1, gravity.2 + bodyMeasured.2,
      ]
      for c in 0..<9 { result[i * 9 + c] = Float(channels[c]) }
    }
    return result
  }
}
