import Foundation
import ONNX
import Sensitivity

/// LSTM, GRU and RNN: bounds that follow from the ranges of their activations alone, for any
/// input (a bounded activation bounds the state whatever it is applied to).
/// - Ranges: Sigmoid, HardSigmoid ⊂ [0, 1]; Tanh, Softsign ⊂ [−1, 1]; ScaledTanh α·tanh(βx) ⊂
///   [−|α|, |α|] with |α| the largest activation_alpha given; any other activation: no rule.
/// - **LSTM** (gates i, f, o from f_act with range F, candidate from g with range G, output
///   h = o ⊙ h_act(c) with range H): Y, Y_h ∈ F·H (interval product) ∪ {0} (padding past a
///   sequence length). Y_c: |c_t| ≤ |f|·|c_{t−1}| + |i|·|g| (with input_forget one gate is 1
///   minus the other: both ≤ max(sup|F|, sup|1 − F|)), so κ_t = sup|f|·κ_{t−1} + sup|i|·sup|G| from κ₀ = max|initial_c| (0 without),
///   and |Y_c| ≤ max_{t≤T} κ_t (the last step a sequence length leaves).
/// - **GRU**: h_t = (1 − z) ⊙ h̃ + z ⊙ h_{t−1}; with z ∈ F ⊂ [0, 1] a convex combination, so
///   h_t ∈ hull(G, initial_h) (0 without); otherwise κ_t = sup|1 − z|·sup|G| + sup|z|·κ_{t−1}.
/// - **RNN**: h_t = f(…) ∈ F, so Y, Y_h ∈ hull(F, initial_h, 0).
/// Direction, layout, peepholes, clip (applied to gate inputs) and linear_before_reset do not
/// change these bounds.
enum RecurrentRules {
    static let rules: [String: IntervalRule] = [
        "LSTM": { c throws(ReferenceError) in recurrent(c, kind: .lstm) },
        "GRU": { c throws(ReferenceError) in recurrent(c, kind: .gru) },
        "RNN": { c throws(ReferenceError) in recurrent(c, kind: .rnn) },
    ]

    enum Kind { case lstm, gru, rnn }

    static func range(_ name: String, alphas: [Float]) -> Interval? {
        switch name.lowercased() {
        case "sigmoid", "hardsigmoid": return .unit
        case "tanh", "softsign": return Interval(-1.0, 1.0)
        case "scaledtanh":
            guard let a = alphas.map({ abs(Double($0)) }).max() else { return nil }
            return Interval(-a, a)
        default: return nil
        }
    }

    static func recurrent(_ c: IntervalNode, kind: Kind) -> [TensorBounds?] {
        guard let x = c.shape(0), x.count == 3 else { return [] }
        let layout = c.node.int("layout") ?? 0
        let steps = layout == 0 ? x[0] : x[1]
        let defaults: [String]
        switch kind {
        case .lstm: defaults = ["Sigmoid", "Tanh", "Tanh"]
        case .gru: defaults = ["Sigmoid", "Tanh"]
        case .rnn: defaults = ["Tanh"]
        }
        let dirs = c.node.string("direction") == "bidirectional" ? 2 : 1
        let names: [String]
        if case let .strings(list)? = c.node.attributes["activations"] { names = list } else { names = Array((0..<dirs).map { _ in defaults }.joined()) }
        guard names.count == defaults.count * dirs || names.count == defaults.count else { return [] }
        let alphas = c.node.floats("activation_alpha") ?? []
        var ranges: [Interval] = []
        for n in names {
            guard let r = range(n, alphas: alphas) else { return [] }
            ranges.append(r)
        }
        // The hull over directions of each role's range.
        let per = defaults.count
        let role = (0..<per).map { k in stride(from: k, to: ranges.count, by: per).map { ranges[$0] }.reduce(ranges[k]) { $0.hull($1) } }
        let initialH = 5, initialC = 6
        let h0 = c.has(initialH) ? c.bounds(initialH).map { b in (0..<b.count).reduce(Interval(point: 0)) { $0.hull(b.interval($1)) } } ?? .entire
            : Interval(point: 0)
        var hidden: Interval, cell: Interval? = nil
        switch kind {
        case .rnn:
            hidden = role[0].hull(h0).hull(0)
        case .gru:
            let (f, g) = (role[0], role[1])
            if f.lo >= 0 && f.hi <= 1 {
                hidden = g.hull(h0).hull(0)
            } else {
                let a = (Interval(point: 1) - f).magnitude * g.magnitude, b = f.magnitude
                var k = h0.magnitude, top = k
                for _ in 0..<max(steps, 0) { k = Outward.addUp(Outward.mulUp(b, k), a); top = max(top, k) }
                hidden = Interval(-top, top)
            }
        case .lstm:
            let (f, g, h) = (role[0], role[1], role[2])
            hidden = (f * h).hull(h0).hull(0)
            let c0 = c.has(initialC) ? c.bounds(initialC).map { b in (0..<b.count).reduce(0.0) { max($0, b.magnitude($1)) } } ?? .infinity : 0
            // input_forget couples the two gates (one is 1 minus the other).
            let gate = c.node.int("input_forget") == 1 ? max(f.magnitude, (Interval(point: 1) - f).magnitude) : f.magnitude
            let forget = gate, feed = Outward.mulUp(gate, g.magnitude)
            var k = c0, top = c0
            for _ in 0..<max(steps, 0) { k = Outward.addUp(Outward.mulUp(forget, k), feed); top = max(top, k) }
            cell = Interval(-top, top)
        }
        return c.node.outputs.indices.map { j in
            guard let s = c.outShapes[j] else { return nil }
            let v = j == 2 ? (cell ?? .entire) : hidden
            let (lo, hi) = v.floats
            return TensorBounds(shape: s, lo: lo, hi: hi)
        }
    }
}
