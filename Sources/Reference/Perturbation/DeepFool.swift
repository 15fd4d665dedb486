import ONNX
import Sensitivity

/// DeepFool (Moosavi-Dezfooli, Fawzi, Frossard, CVPR 2016), with the semantics of the
/// authors' reference implementation, on the class scores f = y(x) of one input x₀:
///
/// - candidates: the top min(10, classes) classes of f(x₀), fixed for the run; label = the first;
/// - each step, at the current point x: w_k = ∇f_k(x) − ∇f_label(x), f_k = f_k(x) − f_label(x),
///   pick k minimising |f_k|/‖w_k‖, step r_i = (|f_k|/‖w_k‖ + 1e-4)·w_k/‖w_k‖, r_tot += r_i;
/// - the next point is x₀ + (1 + overshoot)·r_tot (overshoot 0.02), clipped to `clip` if given;
/// - stop when the top class differs from the label, or after `maxSteps` (50) steps.
/// The perturbation is (1 + overshoot)·r_tot. All candidate gradients of a step come from
/// one backward pass with one cotangent row per candidate.
///
/// Per-position scores (a sequence [N, T, C] or [T, N, C], a per-pixel map [N, C, H, W]; see
/// ``ScoreLayout``): the attack runs on the position whose top-two margin at x₀ is smallest
/// and positive (a position whose top scores tie exactly has no defined class), moving to the
/// next such position while the first step finds no direction that changes the ranking (all
/// candidate gradients equal there: a dead unit); the input counts as flipped as soon as any
/// position's top class changes; κ is measured on the whole tensor.
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
/// output change δy = f(x) − f(x₀), as norms.
public struct Iterate: Sendable, Equatable {
    public var inputChange: Double
    public var outputChange: Double
}

public struct DeepFoolResult: Sendable {
    /// Class of x₀ (argmax of the scores at the attacked position) and of the final point.
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
    /// Positions tried before giving up on an input whose candidate gradients all coincide.
    static let positionAttempts = 16

    /// Runs DeepFool from `x0` (the perturbed tensor's value); `feeds` holds the other inputs.
    public static func run(engine: Engine, input x0: Value, feeds: [String: Value] = [:], layout: ScoreLayout? = nil,
                           options: DeepFoolOptions = DeepFoolOptions()) throws(ReferenceError) -> DeepFoolResult {
        let n = x0.count
        func evaluate(_ x: Value) throws(ReferenceError) -> Engine.Trace {
            var f = feeds
            f[engine.input] = x
            return try engine.forward(f)
        }
        var trace = try evaluate(x0)
        let f0 = trace.result.data
        let view: ScoreLayout
        if let layout { view = layout } else {
            switch ScoreLayout.of(shape: trace.result.shape, name: engine.output) {
            case let .success(l): view = l
            case let .failure(e): throw .badOutput(name: engine.output, reason: e.reason + "; DeepFool needs class scores: pick a score tensor with --output")
            }
        }
        guard view.classes >= 2, view.positions * view.classes == f0.count else {
            throw .badOutput(name: engine.output, reason: "has \(view.classes) class(es) per position; DeepFool needs class scores")
        }
        let labels0 = view.argmaxes(f0)
        let positions = Array(view.positionsByMargin(f0).prefix(positionAttempts))

        /// The candidates and cotangent rows of an attack on position p.
        func target(_ p: Int) -> (candidates: [Int], cot: [Float]) {
            let scores0 = view.scores(f0, position: p)
            let order = scores0.indices.sorted { scores0[$0] > scores0[$1] || (scores0[$0] == scores0[$1] && $0 < $1) }
            let candidates = Array(order.prefix(max(2, min(options.candidates, view.classes))))
            var cot = [Float](repeating: 0, count: candidates.count * f0.count)
            for (row, c) in candidates.enumerated() { cot[row * f0.count + view.index(position: p, class: c)] = 1 }
            return (candidates, cot)
        }
        var attempt = 0
        var p = positions.first ?? 0
        var (candidates, cot) = target(p)
        var label = candidates[0]
        var rTot = [Double](repeating: 0, count: n)
        var fx = f0
        var x = x0
        var flipped = false
        var current = label
        var steps = 0
        var iterates: [Iterate] = []
        var w = [Double](repeating: 0, count: n)
        while !flipped && steps < options.maxSteps {
            let k = candidates.count
            let grads = try engine.vjp(releasing: &trace, cotangents: cot, rows: k)
            var best = Double.infinity
            var bestRow = -1
            var bestNorm = 0.0
            let s = view.scores(fx, position: p)
            for row in 1..<k {
                var q = 0.0
                for i in 0..<n {
                    let d = Double(grads[row * n + i]) - Double(grads[i])
                    q += d * d
                }
                let wNorm = q.squareRoot()
                guard wNorm > 0 else { continue }
                let pert = abs(Double(s[candidates[row]]) - Double(s[label])) / wNorm
                if pert < best { best = pert; bestRow = row; bestNorm = wNorm }
            }
            guard bestRow > 0, best.isFinite else {
                // No direction changes the ranking here: before any step, try the next position.
                if steps == 0, attempt + 1 < positions.count {
                    attempt += 1
                    p = positions[attempt]
                    (candidates, cot) = target(p)
                    label = candidates[0]
                    current = label
                    trace = try evaluate(x0)  // the reverse pass released the activations
                    continue
                }
                break
            }
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
            trace = try evaluate(x)
            fx = trace.result.data
            let labels = view.argmaxes(fx)
            current = labels[p]
            flipped = labels != labels0
            iterates.append(Iterate(inputChange: distance(x.data, x0.data), outputChange: distance(fx, f0)))
        }
        var pert = [Float](repeating: 0, count: n)
        for i in 0..<n { pert[i] = x.data[i] - x0.data[i] }
        return DeepFoolResult(label: label, adversarialLabel: current, flipped: flipped, steps: steps,
                              perturbation: pert, iterates: iterates, inputNorm: norm2(x0.data),
                              outputNorm: norm2(f0), logits: f0)
    }
}
