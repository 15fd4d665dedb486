import Foundation
import KappaTestSupport
import Linalg
import ONNX
import Sensitivity

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
                let f = pick([A(name: "Sigmoid"), A(name: "Sigmoid"), A(name: "HardSigmoid", alpha: pick([0.2, 0.35]), beta: pick([0.5, 0.4])), A(name: "Relu")])
                let g = pick([A(name: "Tanh"), A(name: "Tanh"), A(name: "Softsign"), A(name: "ScaledTanh", alpha: 1.5, beta: 0.7), A(name: "Relu")])
                if f.name == "Relu" || g.name == "Relu" { clip = clip ?? pick([0.5, 1.0, 2.0]) }
                acts += [f, g]
                if op == .LSTM { acts.append(pick([A(name: "Tanh"), A(name: "Tanh"), A(name: "Relu"), A(name: "Softplus"), A(name: "Affine", alpha: 0.8, beta: 0.1), A(name: "Sigmoid")])) }
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
