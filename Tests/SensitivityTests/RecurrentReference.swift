import Foundation
import ONNX
import Testing

/// A float64 evaluator of ONNX LSTM, GRU and RNN written from the operator definitions
/// (onnx/docs/Operators.md, opset 14) with onnxruntime's conventions where the text is silent,
/// independently of Kappa's analysis code:
/// - gate order LSTM i, o, f, c; GRU z, r, h; B = [Wb, Rb]; P = [p_i, p_o, p_f];
/// - `clip` clips the pre-activation of every f and g (not the cell, not the input of h);
/// - the peephole p_o multiplies the new cell C_t; input_forget couples f = 1 − i;
/// - reverse = the forward recursion over the reversed valid part (Y back in original order,
///   Y_h = the state after x_1); sequence_lens ℓ: steps ≥ ℓ are skipped, Y is 0 there, Y_h is
///   the state at ℓ (0 for ℓ = 0);
/// - activation_alpha/beta are consumed in order by the activations that take them
///   (defaults LeakyRelu 0.01, HardSigmoid 0.2/0.5, Elu 1, else 0).
/// Checked against onnxruntime's outputs in Tests/ReferenceTests/OpCases (RecurrentTests).
struct RecurrentReference {
    enum Op: String, CaseIterable, Sendable { case LSTM, GRU, RNN }

    struct Act: Sendable {
        enum Fn: String, Sendable { case sigmoid, tanh, relu, affine, leakyrelu, thresholdedrelu, scaledtanh, hardsigmoid, elu, softsign, softplus }
        var name: String
        var alpha: Double
        var beta: Double
        let fn: Fn?

        init(name: String, alpha: Double = 0, beta: Double = 0) {
            self.name = name; self.alpha = alpha; self.beta = beta
            fn = Fn(rawValue: name.lowercased())
        }

        func callAsFunction(_ u: Double) -> Double {
            switch fn {
            case .sigmoid?: return 1 / (1 + exp(-u))
            case .tanh?: return tanh(u)
            case .relu?: return max(0, u)
            case .affine?: return alpha * u + beta
            case .leakyrelu?: return u >= 0 ? u : alpha * u
            case .thresholdedrelu?: return u > alpha ? u : 0
            case .scaledtanh?: return alpha * tanh(beta * u)
            case .hardsigmoid?: return max(0, min(1, alpha * u + beta))
            case .elu?: return u >= 0 ? u : alpha * (exp(u) - 1)
            case .softsign?: return u / (1 + abs(u))
            case .softplus?: return log(1 + exp(u))
            case nil: return .nan
            }
        }
        static func takes(_ name: String) -> (alpha: Bool, beta: Bool) {
            switch name.lowercased() {
            case "affine", "scaledtanh", "hardsigmoid": return (true, true)
            case "leakyrelu", "thresholdedrelu", "elu": return (true, false)
            default: return (false, false)
            }
        }
        static func defaults(_ name: String) -> (Double, Double) {
            switch name.lowercased() {
            case "leakyrelu": return (0.01, 0)
            case "hardsigmoid": return (0.2, 0.5)
            case "elu": return (1, 0)
            default: return (0, 0)
            }
        }
    }

    var op: Op
    var direction = "forward"
    var hidden: Int
    var inputSize: Int
    var W: [Double]
    var R: [Double]
    var B: [Double]?
    var P: [Double]?
    var acts: [Act]
    var clip: Double?
    var inputForget = false
    var linearBeforeReset = false
    var layout = 0

    var directions: Int { direction == "bidirectional" ? 2 : 1 }
    var gates: Int { op == .LSTM ? 4 : op == .GRU ? 3 : 1 }

    /// Activations by name with the parameters consumed in order (onnxruntime).
    static func activations(_ names: [String], alphas: [Double], betas: [Double]) -> [Act] {
        var ia = 0, ib = 0
        return names.map { n in
            var a = Act(name: n)
            let (da, db) = Act.defaults(n)
            let (ta, tb) = Act.takes(n)
            if ta { a.alpha = ia < alphas.count ? alphas[ia] : da; ia += 1 }
            if tb { a.beta = ib < betas.count ? betas[ib] : db; ib += 1 }
            return a
        }
    }

    static func defaultNames(_ op: Op) -> [String] {
        op == .LSTM ? ["Sigmoid", "Tanh", "Tanh"] : op == .GRU ? ["Sigmoid", "Tanh"] : ["Tanh"]
    }

    /// From a node of a loaded model (its weights are constants of the graph).
    init(node n: Node, constants: [String: Tensor]) throws {
        let op = try #require(Op(rawValue: n.opType))
        self.op = op
        direction = n.string("direction") ?? "forward"
        let w = try #require(constants[n.inputs[1]]), r = try #require(constants[n.inputs[2]])
        hidden = r.dims[2]
        inputSize = w.dims[2]
        W = w.doubles()
        R = r.doubles()
        B = n.input(3).flatMap { constants[$0]?.doubles() }
        P = op == .LSTM ? n.input(7).flatMap { constants[$0]?.doubles() } : nil
        var names: [String] = []
        if case let .strings(s)? = n.attributes["activations"] { names = s }
        let D = direction == "bidirectional" ? 2 : 1
        if names.isEmpty { names = (0..<D).flatMap { _ in Self.defaultNames(op) } }
        acts = Self.activations(names, alphas: (n.floats("activation_alpha") ?? []).map(Double.init),
                                betas: (n.floats("activation_beta") ?? []).map(Double.init))
        clip = n.float("clip").map(Double.init)
        inputForget = (n.int("input_forget") ?? 0) != 0
        linearBeforeReset = (n.int("linear_before_reset") ?? 0) != 0
        layout = n.int("layout") ?? 0
    }

    init(op: Op, direction: String, hidden: Int, inputSize: Int, W: [Double], R: [Double], B: [Double]?, P: [Double]?,
         acts: [Act], clip: Double?, inputForget: Bool, linearBeforeReset: Bool, layout: Int) {
        self.op = op; self.direction = direction; self.hidden = hidden; self.inputSize = inputSize
        self.W = W; self.R = R; self.B = B; self.P = P; self.acts = acts; self.clip = clip
        self.inputForget = inputForget; self.linearBeforeReset = linearBeforeReset; self.layout = layout
    }

    struct Outputs { var y: [Double]; var yh: [Double]; var yc: [Double] }

    /// X: [T, batch, n] (layout 0) or [batch, T, n] (layout 1); h0, c0: [D, batch, H] (layout 1:
    /// [batch, D, H]). Y: [T, D, batch, H] (layout 1: [batch, T, D, H]); Y_h, Y_c like h0.
    func run(x: [Double], steps T: Int, batch N: Int, sequenceLens: [Int]? = nil, h0: [Double]? = nil, c0: [Double]? = nil) -> Outputs {
        let H = hidden, n = inputSize, D = directions, G = gates
        func xAt(_ t: Int, _ b: Int, _ k: Int) -> Double { layout == 0 ? x[(t * N + b) * n + k] : x[(b * T + t) * n + k] }
        func stateIndex(_ d: Int, _ b: Int, _ k: Int) -> Int { layout == 0 ? (d * N + b) * H + k : (b * D + d) * H + k }
        func yIndex(_ t: Int, _ d: Int, _ b: Int, _ k: Int) -> Int { layout == 0 ? ((t * D + d) * N + b) * H + k : ((b * T + t) * D + d) * H + k }
        var out = Outputs(y: Array(repeating: 0, count: T * D * N * H), yh: Array(repeating: 0, count: D * N * H),
                          yc: Array(repeating: 0, count: D * N * H))
        let cl: (Double) -> Double = { u in clip.map { min(max(u, -$0), $0) } ?? u }
        let k = op == .LSTM ? 3 : op == .GRU ? 2 : 1
        for d in 0..<D {
            let a = Array(acts[(d * k)..<((d + 1) * k)])
            let w = Array(W[(d * G * H * n)..<((d + 1) * G * H * n)])
            let r = Array(R[(d * G * H * H)..<((d + 1) * G * H * H)])
            let bias = B.map { Array($0[(d * 2 * G * H)..<((d + 1) * 2 * G * H)]) } ?? Array(repeating: 0, count: 2 * G * H)
            let peep = P.map { Array($0[(d * 3 * H)..<((d + 1) * 3 * H)]) } ?? Array(repeating: 0, count: 3 * H)
            let backward = d == 1 || direction == "reverse"
            // Wx[g·H + j] = (W_g x)_j, Rh likewise (plain loops: debug builds are slow with closures).
            func mv(_ m: [Double], _ v: [Double], rows: Int, cols: Int) -> [Double] {
                var out = [Double](repeating: 0, count: rows)
                for i in 0..<rows {
                    var s = 0.0
                    for j in 0..<cols { s += m[i * cols + j] * v[j] }
                    out[i] = s
                }
                return out
            }
            for b in 0..<N {
                let len = sequenceLens?[b] ?? T
                var h = (0..<H).map { h0?[stateIndex(d, b, $0)] ?? 0 }
                var c = (0..<H).map { c0?[stateIndex(d, b, $0)] ?? 0 }
                guard len > 0 else { continue }
                for step in 0..<len {
                    let t = backward ? len - 1 - step : step
                    let xt = (0..<n).map { xAt(t, b, $0) }
                    let wx = mv(w, xt, rows: G * H, cols: n)
                    let rh = mv(r, h, rows: G * H, cols: H)
                    var hn = [Double](repeating: 0, count: H), cn = c
                    switch op {
                    case .LSTM:  // i o f c
                        for j in 0..<H {
                            func pre(_ g: Int) -> Double { wx[g * H + j] + rh[g * H + j] + bias[g * H + j] + bias[4 * H + g * H + j] }
                            let i = a[0](cl(pre(0) + peep[j] * c[j]))
                            let f = inputForget ? 1 - i : a[0](cl(pre(2) + peep[2 * H + j] * c[j]))
                            let gg = a[1](cl(pre(3)))
                            cn[j] = f * c[j] + i * gg
                            let o = a[0](cl(pre(1) + peep[H + j] * cn[j]))
                            hn[j] = o * a[2](cn[j])
                        }
                    case .GRU:  // z r h
                        var rr = [Double](repeating: 0, count: H)
                        for j in 0..<H { rr[j] = a[0](cl(wx[H + j] + rh[H + j] + bias[H + j] + bias[4 * H + j])) }
                        var rTimesH = [Double](repeating: 0, count: H)
                        for j in 0..<H { rTimesH[j] = rr[j] * h[j] }
                        let rhReset = linearBeforeReset ? [] : mv(Array(r[(2 * H * H)..<(3 * H * H)]), rTimesH, rows: H, cols: H)
                        for j in 0..<H {
                            let z = a[0](cl(wx[j] + rh[j] + bias[j] + bias[3 * H + j]))
                            let cand: Double
                            if linearBeforeReset {
                                cand = a[1](cl(wx[2 * H + j] + rr[j] * (rh[2 * H + j] + bias[5 * H + j]) + bias[2 * H + j]))
                            } else {
                                cand = a[1](cl(wx[2 * H + j] + rhReset[j] + bias[5 * H + j] + bias[2 * H + j]))
                            }
                            hn[j] = (1 - z) * cand + z * h[j]
                        }
                    case .RNN:
                        for j in 0..<H { hn[j] = a[0](cl(wx[j] + rh[j] + bias[j] + bias[H + j])) }
                    }
                    h = hn
                    c = cn
                    for j in 0..<H { out.y[yIndex(t, d, b, j)] = h[j] }
                }
                for j in 0..<H {
                    out.yh[stateIndex(d, b, j)] = h[j]
                    out.yc[stateIndex(d, b, j)] = c[j]
                }
            }
        }
        return out
    }
}

/// Finite differences and norms for the soundness checks.
enum FD {
    /// Central-difference Jacobians of every output of `f` at `v` (rows: output entries),
    /// steps 1e-6·max(1, |v_i|).
    static func jacobians(_ f: ([Double]) -> [[Double]], at v: [Double]) -> [[Double]] {
        let base = f(v)
        var J = base.map { [Double](repeating: 0, count: $0.count * v.count) }
        var p = v
        for i in v.indices {
            let h = 1e-6 * max(1, abs(v[i]))
            p[i] = v[i] + h
            let fp = f(p)
            p[i] = v[i] - h
            let fm = f(p)
            p[i] = v[i]
            for k in base.indices {
                for r in 0..<base[k].count { J[k][r * v.count + i] = (fp[k][r] - fm[k][r]) / (2 * h) }
            }
        }
        return J
    }

    static func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
