/// Empirical κ of one input (DESIGN.md §1.6, the paper's Eq. 1 and Eq. 6):
/// κ = (‖δy‖/‖y‖) / (‖δx‖/‖x‖) on the logits y, for every DeepFool iterate's cumulative
/// perturbation (κ_max over them, the final one included; κ_final of the last), and for a
/// random perturbation of the same norm as DeepFool's (direction a normalised Gaussian,
/// seeded per input).
public struct InputMeasurement: Sendable, Equatable {
    /// Position of the input in the whole (unsharded) input list, and where it came from.
    public var index: Int
    public var source: String
    public var label: Int
    public var adversarialLabel: Int
    public var flipped: Bool
    public var steps: Int
    /// ‖δx‖/‖x‖ of the final DeepFool perturbation.
    public var relPerturbation: Double?
    public var kappaFinal: Double?
    public var kappaMax: Double?
    public var kappaRandom: Double?
    /// Largest ‖δy‖/‖δx‖ seen for this input (DeepFool iterates and the random perturbation).
    public var gainMax: Double?

    public init(index: Int, source: String, label: Int, adversarialLabel: Int, flipped: Bool, steps: Int,
                relPerturbation: Double?, kappaFinal: Double?, kappaMax: Double?, kappaRandom: Double?, gainMax: Double?) {
        self.index = index
        self.source = source
        self.label = label
        self.adversarialLabel = adversarialLabel
        self.flipped = flipped
        self.steps = steps
        self.relPerturbation = relPerturbation
        self.kappaFinal = kappaFinal
        self.kappaMax = kappaMax
        self.kappaRandom = kappaRandom
        self.gainMax = gainMax
    }
}

/// κ from norms; nil when a norm is zero or the result is not finite.
func kappa(inputChange dx: Double, outputChange dy: Double, inputNorm x: Double, outputNorm y: Double) -> Double? {
    guard dx > 0, x > 0, y > 0 else { return nil }
    let k = (dy / y) / (dx / x)
    return k.isFinite ? k : nil
}

/// max that ignores nils.
func maxOptional(_ a: Double?, _ b: Double?) -> Double? {
    switch (a, b) {
    case let (x?, y?): return max(x, y)
    case let (x?, nil): return x
    case let (nil, y?): return y
    default: return nil
    }
}

public enum Measure {
    /// Runs DeepFool on `input`, then the random perturbation of equal norm.
    public static func input(_ x0: Value, index: Int, source: String, engine: Engine,
                             options: DeepFoolOptions, seed: UInt64) throws(ReferenceError) -> InputMeasurement {
        let df = try DeepFool.run(engine: engine, input: x0, options: options)
        var kMax: Double? = nil
        var gMax: Double? = nil
        for it in df.iterates {
            kMax = maxOptional(kMax, kappa(inputChange: it.inputChange, outputChange: it.outputChange,
                                           inputNorm: df.inputNorm, outputNorm: df.outputNorm))
            if it.inputChange > 0 { gMax = maxOptional(gMax, it.outputChange / it.inputChange) }
        }
        let last = df.iterates.last
        let kFinal = last.flatMap { kappa(inputChange: $0.inputChange, outputChange: $0.outputChange,
                                          inputNorm: df.inputNorm, outputNorm: df.outputNorm) }
        // Random direction, same norm as the final DeepFool perturbation.
        var kRandom: Double? = nil
        let radius = norm2(df.perturbation)
        if radius > 0 {
            var rng = RandomSource(seed: seed, stream: index)
            let u = rng.unitVector(x0.count)
            var x = x0
            for i in 0..<x.count {
                var v = Float(Double(x0.data[i]) + radius * u[i])
                if let clip = options.clip { v = min(max(v, clip.lowerBound), clip.upperBound) }
                x.data[i] = v
            }
            let y = try engine.forward(x).result.data
            let dx = distance(x.data, x0.data), dy = distance(y, df.logits)
            kRandom = kappa(inputChange: dx, outputChange: dy, inputNorm: df.inputNorm, outputNorm: df.outputNorm)
            if dx > 0 { gMax = maxOptional(gMax, dy / dx) }
        }
        let rel = df.inputNorm > 0 && last != nil ? (last?.inputChange ?? 0) / df.inputNorm : nil
        return InputMeasurement(index: index, source: source, label: df.label, adversarialLabel: df.adversarialLabel,
                                flipped: df.flipped, steps: df.steps, relPerturbation: rel, kappaFinal: kFinal,
                                kappaMax: kMax, kappaRandom: kRandom, gainMax: gMax)
    }
}
