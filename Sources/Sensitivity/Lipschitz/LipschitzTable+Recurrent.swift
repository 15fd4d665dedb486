import Foundation
import ONNX

/// ONNX LSTM, GRU and RNN: sound ℓ2 Lipschitz constants of the whole sequence map
/// X ↦ (Y, Y_h, Y_c), derived in recurrent.md (kept in the repository's derivation notes):
/// Theorem R (RNN), Theorem G (GRU), Theorem L (LSTM) give per-step comparison systems
/// ``RecurrentCell``; ``RecurrentSequence`` turns them into the norms of the T × T matrices M.
/// Every output gets its own terms (``NodeRule/outputTerms``):
/// g(Y) = L_Y(X)·g(X) + L_Y(initial_h)·g(initial_h) + L_Y(initial_c)·g(initial_c), valid because
/// each partial constant holds uniformly over the other inputs (triangle inequality through
/// (X', h0, c0), recurrent.md §7.3). The batch is a direct sum of copies with the same weights
/// (the single-entry bound, §7.2); layout = 1 only permutes axes.
///
/// Sequence length T: X's static shape (or max(sequence_lens) when that is a constant).
/// sequence_lens: a constant gives the set of lengths; one computed at run time is taken as any
/// ℓ ∈ 0…T — sound because a length-ℓ entry is the length-ℓ map padded with constant zeros, so
/// its constants are the leading ℓ × ℓ block / row ℓ of M, covered by the max over ℓ.
///
/// No finite bound (status unbounded, §8): an LSTM/GRU gate (f) or candidate (g) activation with
/// an unbounded range and no `clip`; ThresholdedRelu with α ≠ 0 on its domain; an LSTM
/// initial_c or GRU initial_h that is not a constant (the gain from X grows with its ∞-norm);
/// weights that are not constants. RNN with any continuous activation is finite for finite T.
///
/// Rounding: block norms are certified upper ends (``RecurrentBlocks``); the recursion uses
/// only sums, products, max and √ of non-negative numbers (the range ends are rounded outward),
/// so each computed entry of A_t, β_t is at most c·t·u below its exact value (u = 2⁻⁵³) and an
/// entry of M, a product of ≤ T of them, at most c·T²·u/2 below; the final factor
/// 1 + 1e-12 + 64·(T + 8)²·u covers c ≤ 100.
extension LipschitzTable {
    /// `constants` supplies weights that are not in the graph (DynamicQuantizeLSTM's
    /// dequantized ones), by the names `n` uses.
    static func recurrent(_ n: Node, _ ctx: GraphContext, constants: [String: Tensor] = [:]) -> NodeRule {
        let vars = ctx.variableInputs(n)
        switch RecurrentNode.read(n, ctx, constants: constants) {
        case let .failure(e):
            switch e {
            case let .unbounded(s) where s.contains("--input-range"): return .needsDomain(vars, "\(n.opType): \(s)")
            case let .unbounded(s): return .unbounded(vars, "\(n.opType): \(s)")
            case let .malformed(s): return .unsupported(vars, "\(n.opType): \(s)")
            }
        case let .success(node):
            return node.rule(ctx)
        }
    }
}

/// A validated LSTM/GRU/RNN node: its operands and attributes read once.
struct RecurrentNode {
    enum Op: String { case lstm = "LSTM", gru = "GRU", rnn = "RNN" }
    var op: Op
    var node: Node
    var directions: Int
    var direction: String
    var hidden: Int
    var inputSize: Int
    var steps: Int
    var lengths: SequenceLengths
    var clip: Double
    var activations: [[RecurrentActivation]]
    var w: [Double], r: [Double], b: [Double]?, p: [Double]?
    var kappaH: [Double], kappaC: [Double]
    var inputForget: Bool, linearBeforeReset: Bool
    var x: String, h0: String?, c0: String?

    var gates: Int { op == .lstm ? 4 : op == .gru ? 3 : 1 }
    static let maxSteps = 1_000_000

    static func read(_ n: Node, _ ctx: GraphContext, constants: [String: Tensor] = [:]) -> Result<RecurrentNode, RecurrentError> {
        guard let op = Op(rawValue: n.opType) else { return .failure(.malformed("not a recurrent op")) }
        let dirName = n.string("direction") ?? "forward"
        guard ["forward", "reverse", "bidirectional"].contains(dirName) else { return .failure(.malformed("direction '\(dirName)' is not forward, reverse or bidirectional")) }
        let D = dirName == "bidirectional" ? 2 : 1
        let G = op == .lstm ? 4 : op == .gru ? 3 : 1
        guard let x = n.input(0) else { return .failure(.malformed("input X is missing")) }
        // Weights: constants of shape [D, G·H, n] and [D, G·H, H].
        func weight(_ i: Int, _ label: String) -> Result<Tensor?, RecurrentError> {
            guard let name = n.input(i) else { return .success(nil) }
            if let t = constants[name] { return .success(t) }
            if ctx.isVariable(name) { return .failure(.unbounded("its \(label) '\(name)' depends on the input: a product of two variables has no global Lipschitz bound")) }
            guard let t = ctx.constant(name) else { return .failure(.unbounded("its \(label) '\(name)' is not a constant: its norm is not known statically")) }
            return .success(t)
        }
        let wT: Tensor, rT: Tensor, bT: Tensor?, pT: Tensor?
        switch (weight(1, "weight W"), weight(2, "recurrence weight R"), weight(3, "bias B"), op == .lstm ? weight(7, "peephole P") : .success(nil)) {
        case let (.success(w?), .success(r?), .success(b), .success(p)): (wT, rT, bT, pT) = (w, r, b, p)
        case let (.failure(e), _, _, _), let (_, .failure(e), _, _), let (_, _, .failure(e), _), let (_, _, _, .failure(e)): return .failure(e)
        default: return .failure(.malformed("inputs W and R are required"))
        }
        guard rT.dims.count == 3, rT.dims[0] == D, rT.dims[1] % G == 0, rT.dims[1] / G == rT.dims[2], rT.dims[2] > 0 else {
            return .failure(.malformed("R has shape \(rT.dims); expected [\(D), \(G)·H, H]"))
        }
        let H = rT.dims[2]
        if let hs = n.int("hidden_size"), hs != H { return .failure(.malformed("hidden_size = \(hs) but R has shape \(rT.dims)")) }
        guard wT.dims.count == 3, wT.dims[0] == D, wT.dims[1] == G * H, wT.dims[2] > 0 else {
            return .failure(.malformed("W has shape \(wT.dims); expected [\(D), \(G * H), input_size]"))
        }
        let inputSize = wT.dims[2]
        for t in [wT, rT, bT, pT].compactMap({ $0 }) where t.nonFiniteCount() > 0 {
            return .failure(.unbounded("weight '\(t.name)' holds NaN or infinite values"))
        }
        if let bT, bT.count != D * 2 * G * H { return .failure(.malformed("B has shape \(bT.dims); expected [\(D), \(2 * G * H)]")) }
        if let pT, pT.count != D * 3 * H { return .failure(.malformed("P has shape \(pT.dims); expected [\(D), \(3 * H)]")) }
        // Sequence length and lengths.
        let layout = n.int("layout") ?? 0
        guard layout == 0 || layout == 1 else { return .failure(.malformed("layout = \(layout) is not 0 or 1")) }
        var lengths = SequenceLengths.full
        var constantLens: [Int]?
        if let s = n.input(4) {
            if let t = ctx.constant(s) { constantLens = t.int64s().map { Int(clamping: $0) } } else { lengths = .unknown }
        }
        let T: Int
        if let s = ctx.shape(x), s.count == 3 {
            T = layout == 0 ? s[0] : s[1]
            if s[2] != inputSize { return .failure(.malformed("X has \(s[2]) features but W expects \(inputSize)")) }
        } else if let lens = constantLens, let mx = lens.max() {
            T = mx
        } else {
            return .failure(.unbounded("the sequence length of '\(x)' is not known statically (give --input-shape for the model input)"))
        }
        guard T <= maxSteps else { return .failure(.unbounded("sequence length T = \(T) is above the \(maxSteps) steps Kappa bounds")) }
        if let lens = constantLens {
            lengths = lens.allSatisfy({ $0 >= 0 && $0 <= T }) ? .constant(lens) : .unknown
        }
        // clip.
        var clip = Double.infinity
        if let c = n.float("clip") {
            guard !c.isNaN, c >= 0 else { return .failure(.malformed("clip = \(c) is not a non-negative number")) }
            clip = Double(c)
        }
        // Activations.
        let defaults: [RecurrentActivation] = op == .lstm ? [.sigmoid, .tanh, .tanh] : op == .gru ? [.sigmoid, .tanh] : [.tanh]
        let acts: [[RecurrentActivation]]
        switch RecurrentActivation.parse(n, directions: D, perDirection: defaults.count, defaults: defaults) {
        case let .success(a): acts = a
        case let .failure(e): return .failure(e)
        }
        // Initial states: LSTM needs a range of initial_c, GRU of initial_h (§6.1, §5, §8.4).
        func stateRange(_ i: Int, _ label: String, needed: Bool) -> Result<[Double], RecurrentError> {
            let zero = [Double](repeating: 0, count: D)
            guard let name = n.input(i) else { return .success(zero) }
            if let t = ctx.constant(name) {
                let v = t.doubles()
                guard v.count % D == 0 else { return .failure(.malformed("\(label) '\(name)' has \(v.count) values for \(D) direction(s)")) }
                guard v.allSatisfy(\.isFinite) else { return .failure(.unbounded("\(label) '\(name)' holds NaN or infinite values")) }
                let per = v.count / D
                return .success((0..<D).map { d in v[(d * per)..<((d + 1) * per)].reduce(0) { max($0, abs($1)) } })
            }
            guard needed else { return .success(zero) }
            // On an input domain the state's bounds give its ∞-norm per direction.
            if let b = ctx.bounds?[name], b.isFinite, b.count % D == 0 {
                let per = b.count / D
                return .success((0..<D).map { d in ((d * per)..<((d + 1) * per)).reduce(0.0) { max($0, b.magnitude($1)) } })
            }
            let what = ctx.isVariable(name) ? "depends on the input" : "is not a constant (a run-time value)"
            return .failure(.unbounded("\(label) '\(name)' \(what) and has no proven range: the gain from X grows without bound with ‖\(label)‖∞ (recurrent.md §8.4; declare one with --input-range)"))
        }
        let kH: [Double], kC: [Double]
        switch (stateRange(5, "initial_h", needed: op == .gru), stateRange(6, "initial_c", needed: op == .lstm)) {
        case let (.success(a), .success(b)): (kH, kC) = (a, b)
        case let (.failure(e), _), let (_, .failure(e)): return .failure(e)
        }
        return .success(RecurrentNode(
            op: op, node: n, directions: D, direction: dirName, hidden: H, inputSize: inputSize, steps: T, lengths: lengths,
            clip: clip, activations: acts, w: wT.doubles(), r: rT.doubles(), b: bT?.doubles(), p: pT?.doubles(),
            kappaH: kH, kappaC: op == .lstm ? kC : [Double](repeating: 0, count: D),
            inputForget: (n.int("input_forget") ?? 0) != 0, linearBeforeReset: (n.int("linear_before_reset") ?? 0) != 0,
            x: x, h0: n.input(5), c0: op == .lstm ? n.input(6) : nil))
    }

    /// The comparison system of direction d.
    func system(_ d: Int) -> Result<ComparisonSystem, RecurrentError> {
        let G = gates, H = hidden, n = inputSize
        let blocks = RecurrentBlocks(w: Array(w[(d * G * H * n)..<((d + 1) * G * H * n)]),
                                     r: Array(r[(d * G * H * H)..<((d + 1) * G * H * H)]), hidden: H, inputSize: n)
        let k = op == .lstm ? 3 : op == .gru ? 2 : 1
        let slots = Array(activations[(d * k)..<((d + 1) * k)])
        func bounds(_ i: Int, _ role: String) -> Result<ActivationBounds, RecurrentError> {
            guard let b = RecurrentActivation.bounds(slots[i], halfWidth: clip) else {
                return .failure(.unbounded("\(role) activation \(slots[i][0].name) (α = \(slots[i][0].alpha)) is discontinuous\(clip.isFinite ? " on [−clip, clip]" : ""): no Lipschitz constant (recurrent.md §8.3)"))
            }
            return .success(b)
        }
        let result: Result<ComparisonSystem, RecurrentError>
        switch op {
        case .rnn:
            switch bounds(0, "the") {
            case let .failure(e): return .failure(e)
            case let .success(f): result = .success(RecurrentCell.rnn(blocks, f: f, steps: steps))
            }
        case .gru, .lstm:
            let f: ActivationBounds, g: ActivationBounds
            switch (bounds(0, "the gate"), bounds(1, "the candidate")) {
            case let (.success(a), .success(b)): (f, g) = (a, b)
            case let (.failure(e), _), let (_, .failure(e)): return .failure(e)
            }
            for (b, role, s, sect) in [(f, "gate activation f", slots[0][0].name, "§8.1"), (g, "candidate activation g", slots[1][0].name, "§8.2")] where !b.isFinite {
                return .failure(.unbounded("the \(role) = \(s) has an unbounded range and no clip is set: no finite Lipschitz constant exists (recurrent.md \(sect))"))
            }
            let c = GateConstants(f: f, g: g)
            if op == .gru {
                let rbh = b.map { Array($0[(d * 6 * H + 5 * H)..<(d * 6 * H + 6 * H)]) } ?? []
                result = .success(RecurrentCell.gru(blocks, c, linearBeforeReset: linearBeforeReset, recurrentBiasH: rbh,
                                                    kappa0: kappaH[d], steps: steps))
            } else {
                let pd = p.map { Array($0[(d * 3 * H)..<((d + 1) * 3 * H)]) } ?? []
                result = RecurrentCell.lstm(blocks, c, h: slots[2], peepholes: pd, inputForget: inputForget, kappa0: kappaC[d], steps: steps)
            }
        }
        if blocks.sawNaN { return .failure(.unbounded("a weight holds NaN")) }
        return result
    }

    /// The node's rule: per-output terms, or unbounded with the reason.
    func rule(_ ctx: GraphContext) -> NodeRule {
        let vars = ctx.variableInputs(node)
        var systems: [ComparisonSystem] = []
        for d in 0..<directions {
            switch system(d) {
            case let .success(s): systems.append(s)
            case let .failure(e): return .unbounded(vars, "\(op.rawValue): \(e.message)")
            }
        }
        let head = "\(op.rawValue) \(direction) T = \(steps), hidden \(hidden)"
        guard systems.allSatisfy(\.isFinite) else {
            return .unbounded(vars, "\(head): the per-step constants overflow Double (κ_T = \(NumberText.value(systems.map(\.kappa).max())))")
        }
        let g = RecurrentSequence.gains(systems, lengths: lengths)
        let u = 0x1p-53
        let margin = 1e-12 + 64 * Double(steps + 8) * Double(steps + 8) * u
        func gain(_ v: ScaledValue) -> ModePair { ModePair(v.inflated(margin).double) }
        let outputs = op == .lstm ? 3 : 2
        var per: [[NodeRule.Term]] = []
        for k in 0..<outputs {
            var t: [NodeRule.Term] = []
            // An omitted output feeds nothing (and must not show in the node's L).
            guard k < node.outputs.count, !node.outputs[k].isEmpty else { per.append(t); continue }
            if ctx.isVariable(x) { t.append(.init(x, gain(g.x[k]))) }
            if let h0, ctx.isVariable(h0) { t.append(.init(h0, gain(g.h0[k]))) }
            if let c0, ctx.isVariable(c0) { t.append(.init(c0, gain(g.c0[k]))) }
            per.append(t)
        }
        var rule = NodeRule(terms: per.first { !$0.isEmpty } ?? [], reason: reason(head, g, margin: margin, systems: systems, isVariable: ctx.isVariable))
        rule.outputTerms = per
        return rule
    }

    func reason(_ head: String, _ g: RecurrentGains, margin: Double, systems: [ComparisonSystem], isVariable: (String) -> Bool) -> String {
        let theorem = op == .lstm ? "Thm L" : op == .gru ? "Thm G" : "Thm R"
        func text(_ v: ScaledValue) -> String {
            let d = v.inflated(margin).double
            return d.isFinite ? NumberText.value(d) : String(format: "10^%.1f (above Double's range)", v.log10)
        }
        var parts: [String] = []
        let names = ["Y", "Y_h", "Y_c"]
        for k in 0..<(op == .lstm ? 3 : 2) where k < node.outputs.count && !node.outputs[k].isEmpty {
            parts.append("L_\(names[k]) = " + (k == 0 ? "\(g.method) = " : "") + text(g.x[k]))
        }
        for (name, gains) in [(h0, g.h0), (c0, g.c0)] {
            guard let name, isVariable(name), let k = (0..<3).first(where: { $0 < node.outputs.count && !node.outputs[$0].isEmpty }) else { continue }
            parts.append("L_\(names[k])(\(name)) = " + text(gains[k]))
        }
        var tail = "recurrent.md \(theorem)"
        if op != .rnn { tail += ", κ_T = \(NumberText.value(systems.map(\.kappa).max()))" }
        switch lengths {
        case .full: break
        case .constant: tail += ", constant sequence_lens"
        case .unknown: tail += ", sequence_lens at run time: every ℓ ≤ T"
        }
        return "\(head): " + parts.joined(separator: ", ") + " (\(tail))"
    }
}
