import Sensitivity

/// max that ignores nils.
func maxOptional(_ a: Double?, _ b: Double?) -> Double? {
    switch (a, b) {
    case let (x?, y?): return max(x, y)
    case let (x?, nil): return x
    case let (nil, y?): return y
    default: return nil
    }
}

func kappa(inputChange dx: Double, outputChange dy: Double, inputNorm x: Double, outputNorm y: Double) -> Double? {
    InputMeasurement.kappa(inputChange: dx, outputChange: dy, inputNorm: x, outputNorm: y)
}

/// Measures one input (DESIGN.md §1.6): DeepFool, then a random perturbation of equal norm,
/// giving the ``InputMeasurement`` that `Sensitivity` summarises.
public enum Measure {
    /// Runs DeepFool on `x0` (the perturbed tensor's value; `feeds` holds the graph inputs the
    /// engine also reads), then the random perturbation of equal norm.
    public static func input(_ x0: Value, feeds: [String: Value] = [:], index: Int, source: String, engine: Engine,
                             options: DeepFoolOptions, seed: UInt64) throws(ReferenceError) -> InputMeasurement {
        let df = try DeepFool.run(engine: engine, input: x0, feeds: feeds, options: options)
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
        // Random direction, same norm as the final DeepFool perturbation (1e-3·‖x₀‖ when
        // DeepFool made no step: a locally flat ranking still has a measurable gain).
        var kRandom: Double? = nil
        let dfRadius = norm2(df.perturbation)
        let radius = dfRadius > 0 ? dfRadius : 1e-3 * df.inputNorm
        if radius > 0 {
            var rng = RandomSource(seed: seed, stream: index)
            let u = rng.unitVector(x0.count)
            var x = x0
            for i in 0..<x.count {
                var v = Float(Double(x0.data[i]) + radius * u[i])
                if let clip = options.clip { v = min(max(v, clip.lowerBound), clip.upperBound) }
                x.data[i] = v
            }
            var f = feeds
            f[engine.input] = x
            let y = try engine.forward(f).result.data
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
