import Foundation
import KappaTestSupport
import Linalg
import ONNX
import Sensitivity
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

/// One random recurrent test model: the evaluator's parameters, how the optional inputs are
/// given (absent, constant, graph input), and its ONNX file built with the test writer.
struct RecurrentCase: CustomStringConvertible {
    enum Given<V> { case absent, constant(V), input }

    var ref: RecurrentReference
    var steps: Int
    var batch: Int
    var sequenceLens: Given<[Int]> = .absent
    /// The values used at run time for `sequenceLens == .input`.
    var runtimeLens: [Int]?
    var h0: Given<[Double]> = .absent
    var c0: Given<[Double]> = .absent
    var label = ""

    var D: Int { ref.directions }
    var stateCount: Int { D * batch * ref.hidden }
    var xCount: Int { steps * batch * ref.inputSize }
    var h0IsInput: Bool { if case .input = h0 { return true } else { return false } }
    var c0IsInput: Bool { if case .input = c0 { return true } else { return false } }
    var lensAtRunTime: [Int]? {
        switch sequenceLens {
        case .absent: return nil
        case let .constant(l): return l
        case .input: return runtimeLens
        }
    }

    var description: String {
        let a = ref.acts.map { $0.name + (RecurrentReference.Act.takes($0.name).alpha ? "(\($0.alpha))" : "") }.joined(separator: ",")
        return "\(label) \(ref.op) \(ref.direction) n=\(ref.inputSize) H=\(ref.hidden) T=\(steps) N=\(batch) [\(a)]"
            + (ref.clip.map { " clip=\($0)" } ?? "") + (ref.inputForget ? " input_forget" : "") + (ref.linearBeforeReset ? " lbr" : "")
            + (ref.P != nil ? " peep" : "") + " lens=\(sequenceLens) h0=\(h0) c0=\(c0) layout=\(ref.layout)"
    }

    /// The model: X (and initial states given as inputs) are float graph inputs, perturbed.
    func spec() -> ModelSpec {
        let H = ref.hidden, n = ref.inputSize, G = ref.gates
        var g = GraphSpec(name: "recurrent")
        func f32(_ v: [Double]) -> [Float] { v.map { Float($0) } }
        let xShape = ref.layout == 0 ? [steps, batch, n] : [batch, steps, n]
        let sShape = ref.layout == 0 ? [D, batch, H] : [batch, D, H]
        g.inputs.append(ValueInfoSpec("X", shape: xShape))
        g.initializers.append(.float("W", dims: [D, G * H, n], values: f32(ref.W)))
        g.initializers.append(.float("R", dims: [D, G * H, H], values: f32(ref.R)))
        var inputs = ["X", "W", "R", ""]
        if let b = ref.B {
            g.initializers.append(.float("B", dims: [D, 2 * G * H], values: f32(b)))
            inputs[3] = "B"
        }
        switch sequenceLens {
        case .absent: inputs.append("")
        case let .constant(l):
            g.initializers.append(TensorSpec(name: "seq", dataType: DataType.int32.rawValue, dims: [Int64(batch)], data: .int32Data(l.map { Int32($0) })))
            inputs.append("seq")
        case .input:
            g.inputs.append(ValueInfoSpec("seq", shape: [batch], elemType: .int32))
            inputs.append("seq")
        }
        for (name, given) in [("h0", h0), ("c0", c0)] {
            switch given {
            case .absent: inputs.append("")
            case let .constant(v):
                g.initializers.append(.float(name, dims: sShape, values: f32(v)))
                inputs.append(name)
            case .input:
                g.inputs.append(ValueInfoSpec(name, shape: sShape))
                inputs.append(name)
            }
        }
        if ref.op != .LSTM { inputs = Array(inputs.prefix(6)) }
        if ref.op == .LSTM, let p = ref.P {
            g.initializers.append(.float("P", dims: [D, 3 * H], values: f32(p)))
            inputs.append("P")
        }
        while inputs.last == "" { inputs.removeLast() }
        var attrs: [(String, AttrSpec)] = [("hidden_size", .int(H)), ("direction", .string(ref.direction)),
                                           ("activations", .strings(ref.acts.map(\.name)))]
        let alphas = ref.acts.filter { RecurrentReference.Act.takes($0.name).alpha }.map { Float($0.alpha) }
        let betas = ref.acts.filter { RecurrentReference.Act.takes($0.name).beta }.map { Float($0.beta) }
        if !alphas.isEmpty { attrs.append(("activation_alpha", .floats(alphas))) }
        if !betas.isEmpty { attrs.append(("activation_beta", .floats(betas))) }
        if let c = ref.clip { attrs.append(("clip", .float(Float(c)))) }
        if ref.op == .LSTM { attrs.append(("input_forget", .int(ref.inputForget ? 1 : 0))) }
        if ref.op == .GRU { attrs.append(("linear_before_reset", .int(ref.linearBeforeReset ? 1 : 0))) }
        if ref.layout != 0 { attrs.append(("layout", .int(ref.layout))) }
        let outs = ref.op == .LSTM ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]
        g.nodes.append(NodeSpec(ref.op.rawValue, name: "cell", inputs: inputs, outputs: outs, attributes: attrs))
        g.outputs = outs.map { ValueInfoSpec($0, elemType: DataType.float.rawValue, dims: nil) }
        return ModelSpec(graph: g, opset: 14)
    }

    /// The outputs (Y, Y_h, Y_c) as functions of the perturbed inputs v = [X, h0?, c0?].
    func function(_ v: [Double]) -> [[Double]] {
        let x = Array(v[0..<xCount])
        var off = xCount
        var h: [Double]?, c: [Double]?
        if case let .constant(s) = h0 { h = s }
        if case let .constant(s) = c0 { c = s }
        if h0IsInput { h = Array(v[off..<(off + stateCount)]); off += stateCount }
        if c0IsInput { c = Array(v[off..<(off + stateCount)]) }
        let o = ref.run(x: x, steps: steps, batch: batch, sequenceLens: lensAtRunTime, h0: h, c0: c)
        return ref.op == .LSTM ? [o.y, o.yh, o.yc] : [o.y, o.yh]
    }

    var inputCount: Int { xCount + (h0IsInput ? stateCount : 0) + (c0IsInput ? stateCount : 0) }
}

/// Random small cells (recurrent.md §9's families): every direction, weights N(0, s²/fan_in),
/// activations with and without clip, peepholes, input_forget, linear_before_reset,
/// sequence_lens (constant or a graph input), initial states (constant or graph inputs).
enum RecurrentCases {
    static func random(_ op: RecurrentReference.Op, seed: UInt64) -> RecurrentCase {
        var rng = SeededRandom(seed: seed)
        func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        func pick<T>(_ a: [T]) -> T { a[int(0...(a.count - 1))] }
        func gauss(_ k: Int, _ s: Double) -> [Double] { (0..<k).map { _ in Double(Float(rng.gaussian() * s)) } }
        let n = int(2...5), H = int(2...6), T = int(1...8), N = int(1...3)
        let direction = pick(["forward", "reverse", "bidirectional"])
        let D = direction == "bidirectional" ? 2 : 1
        let G = op == .LSTM ? 4 : op == .GRU ? 3 : 1
        let s = pick([0.5, 1.5, 3.0])
        typealias A = RecurrentReference.Act
        var clip: Double? = rng.uniform() < 0.3 ? pick([0.5, 1.0, 2.0]) : nil
        var acts: [A] = []
        for _ in 0..<D {
            switch op {
            case .LSTM, .GRU:
                let f = pick([A(name: "Sigmoid"), A(name: "Sigmoid"), A(name: "Sigmoid"), A(name: "HardSigmoid", alpha: pick([0.2, 0.35]), beta: pick([0.5, 0.4])), A(name: "Relu")])
                let g = pick([A(name: "Tanh"), A(name: "Tanh"), A(name: "Tanh"), A(name: "Softsign"), A(name: "ScaledTanh", alpha: 1.5, beta: 0.7), A(name: "Relu")])
                if f.name == "Relu" || g.name == "Relu" { clip = clip ?? pick([0.5, 1.0, 2.0]) }
                acts += [f, g]
                if op == .LSTM { acts.append(pick([A(name: "Tanh"), A(name: "Tanh"), A(name: "Tanh"), A(name: "Relu"), A(name: "Softplus"), A(name: "Affine", alpha: 0.8, beta: 0.1), A(name: "Sigmoid")])) }
            case .RNN:
                acts.append(pick([A(name: "Tanh"), A(name: "Relu"), A(name: "Sigmoid"), A(name: "LeakyRelu", alpha: pick([0.1, -1.5])),
                                  A(name: "Elu", alpha: pick([1.5, -0.5])), A(name: "Softsign"), A(name: "Softplus"),
                                  A(name: "Affine", alpha: 0.7, beta: 0.2), A(name: "HardSigmoid", alpha: 0.3, beta: 0.4),
                                  A(name: "ScaledTanh", alpha: 1.5, beta: 0.7), A(name: "ThresholdedRelu", alpha: 0)]))
            }
        }
        let W = gauss(D * G * H * n, s / Double(n).squareRoot())
        let R = gauss(D * G * H * H, s / Double(H).squareRoot())
        let B: [Double]? = rng.uniform() < 0.8 ? gauss(D * 2 * G * H, 0.5) : nil
        let P: [Double]? = op == .LSTM && rng.uniform() < 0.5 ? gauss(D * 3 * H, 0.7) : nil
        let ref = RecurrentReference(op: op, direction: direction, hidden: H, inputSize: n, W: W, R: R, B: B, P: P, acts: acts,
                                     clip: clip, inputForget: op == .LSTM && rng.uniform() < 0.3,
                                     linearBeforeReset: op == .GRU && rng.uniform() < 0.5, layout: rng.uniform() < 0.15 ? 1 : 0)
        var c = RecurrentCase(ref: ref, steps: T, batch: N)
        let u = rng.uniform()
        var lens = (0..<N).map { _ in int(0...T) }
        lens[0] = max(lens[0], 1)  // some output depends on X
        if u < 0.25 { c.sequenceLens = .constant(lens) } else if u < 0.5 { c.sequenceLens = .input; c.runtimeLens = lens }
        let states = D * N * H
        switch op {
        case .RNN:
            c.h0 = pick([.absent, .constant(gauss(states, 1)), .input])
        case .GRU:
            c.h0 = pick([.absent, .constant((0..<states).map { _ in Double(Float(rng.uniform() * 1.6 - 0.8)) })])
        case .LSTM:
            c.h0 = pick([.absent, .constant(gauss(states, 1)), .input])
            c.c0 = pick([.absent, .constant((0..<states).map { _ in Double(Float(rng.uniform() * 3 - 1.5)) })])
        }
        c.label = "seed \(seed)"
        return c
    }
}
