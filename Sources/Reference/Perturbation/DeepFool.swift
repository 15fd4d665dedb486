/// DeepFool (Moosavi-Dezfooli, Fawzi, Frossard, CVPR 2016), with the semantics of the
/// authors' reference implementation, on the logits f = y(x) of one input x₀:
///
/// - candidates: the top min(10, classes) classes of f(x₀), fixed for the run; label = the first;
/// - each step, at the current point x: w_k = ∇f_k(x) − ∇f_label(x), f_k = f_k(x) − f_label(x),
///   pick k minimising |f_k|/‖w_k‖, step r_i = (|f_k|/‖w_k‖ + 1e-4)·w_k/‖w_k‖, r_tot += r_i;
/// - the next point is x₀ + (1 + overshoot)·r_tot (overshoot 0.02), clipped to `clip` if given;
/// - stop when the top class differs from the label, or after `maxSteps` (50) steps.
/// The perturbation is (1 + overshoot)·r_tot. All candidate gradients of a step come from
/// one backward pass with one cotangent row per candidate.
public struct DeepFoolOptions: Sendable, Equatable {
    public var maxSteps = 50
    public var overshoot: Float = 0.02
    public var candidates = 10
    /// Keep every evaluated point inside [lo, hi] (e.g. the valid pixel range).
    public var clip: ClosedRange<Float>?

    public init(maxSteps: Int = 50, overshoot: Float = 0.02, candidates: Int = 10, clip: ClosedRange<Float>? = nil) {
        self.maxSteps = maxSteps
        self.overshoot = overshoot
        self.candidates = candidates
        self.clip = clip
    }
}

/// One evaluated DeepFool iterate: the cumulative perturbation δx = x − x₀ and the
/// logit change δy = f(x) − f(x₀), as norms.
public struct Iterate: Sendable, Equatable {
    public var inputChange: Double
    public var outputChange: Double
}

public struct DeepFoolResult: Sendable {
    /// Class of x₀ (argmax of the logits) and of the final point.
    public var label: Int
    public var adversarialLabel: Int
    public var flipped: Bool
    public var steps: Int
    /// The final perturbation (1 + overshoot)·r_tot (after clipping: x_final − x₀).
    public var perturbation: [Float]
    /// One entry per step, in order; the last is the final perturbation.
    public var iterates: [Iterate]
    /// ‖x₀‖ and ‖f(x₀)‖.
    public var inputNorm: Double
    public var outputNorm: Double
    /// f(x₀).
    public var logits: [Float]
}

public enum DeepFool {
    public static func run(engine: Engine, input x0: Value, options: DeepFoolOptions = DeepFoolOptions()) throws(ReferenceError) -> DeepFoolResult {
        let n = x0.count
        var trace = try engine.forward(x0)
        let f0 = trace.result.data
        let classes = f0.count
        guard classes >= 2 else {
            throw .badOutput(name: engine.output, reason: "has \(classes) value(s); DeepFool needs at least 2 classes")
        }
        let order = f0.indices.sorted { f0[$0] > f0[$1] || (f0[$0] == f0[$1] && $0 < $1) }
        let candidates = Array(order.prefix(max(2, min(options.candidates, classes))))
        let label = candidates[0]
        let k = candidates.count
        var cot = [Float](repeating: 0, count: k * classes)
        for (row, c) in candidates.enumerated() { cot[row * classes + c] = 1 }

        var rTot = [Double](repeating: 0, count: n)
        var fx = f0
        var x = x0
        var current = label
        var steps = 0
        var iterates: [Iterate] = []
        var w = [Double](repeating: 0, count: n)
        while current == label && steps < options.maxSteps {
            let grads = try engine.vjp(trace, cotangents: cot, rows: k)
            var best = Double.infinity
            var bestRow = -1
            var bestNorm = 0.0
            for row in 1..<k {
                var s = 0.0
                for i in 0..<n {
                    let d = Double(grads[row * n + i]) - Double(grads[i])
                    s += d * d
                }
                let wNorm = s.squareRoot()
                guard wNorm > 0 else { continue }
                let pert = abs(Double(fx[candidates[row]]) - Double(fx[label])) / wNorm
                if pert < best { best = pert; bestRow = row; bestNorm = wNorm }
            }
            guard bestRow > 0, best.isFinite else { break }  // no direction changes the ranking
            for i in 0..<n { w[i] = Double(grads[bestRow * n + i]) - Double(grads[i]) }
            let scale = (best + 1e-4) / bestNorm
            for i in 0..<n { rTot[i] += scale * w[i] }
            steps += 1
            // The next point x₀ + (1 + overshoot)·r_tot.
            let o = 1 + Double(options.overshoot)
            for i in 0..<n {
                var v = Float(Double(x0.data[i]) + o * rTot[i])
                if let clip = options.clip { v = min(max(v, clip.lowerBound), clip.upperBound) }
                x.data[i] = v
            }
            trace = try engine.forward(x)
            fx = trace.result.data
            current = argmax(fx)
            iterates.append(Iterate(inputChange: distance(x.data, x0.data), outputChange: distance(fx, f0)))
        }
        var pert = [Float](repeating: 0, count: n)
        for i in 0..<n { pert[i] = x.data[i] - x0.data[i] }
        return DeepFoolResult(label: label, adversarialLabel: current, flipped: current != label, steps: steps,
                              perturbation: pert, iterates: iterates, inputNorm: norm2(x0.data),
                              outputNorm: norm2(f0), logits: f0)
    }
}
