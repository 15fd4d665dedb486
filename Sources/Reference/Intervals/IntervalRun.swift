import Foundation
import ONNX
import Sensitivity

/// One interval forward pass (``IntervalEvaluator/bounds(graph:domain:needed:)``): the plan
/// (the nodes the requested tensors need), the bounds in flight, and when each can be freed.
struct IntervalRun {
    let graph: ModelGraph
    let domain: [String: TensorBounds]
    /// nil: keep every tensor.
    let needed: Set<String>?
    let opset: Int
    /// Node indices to evaluate, in topological order.
    let plan: [Int]
    /// Tensor → the last plan position that reads it (as an input or a branch condition).
    let lastUse: [String: Int]
    /// Element types the file declares (graph inputs, outputs, value_info).
    let declared: [String: DataType]
    var values: [String: TensorBounds] = [:]

    init(graph: ModelGraph, domain: [String: TensorBounds], needed: Set<String>?) throws(ReferenceError) {
        self.graph = graph
        self.domain = domain
        self.needed = needed
        opset = graph.model.opsets[""] ?? graph.model.opsets["ai.onnx"] ?? 21
        for (name, b) in domain {
            guard let n = Shapes.checkedProduct(b.shape), n == b.lo.count, n == b.hi.count else {
                throw .badFeed(reason: "bounds of '\(name)': \(b.lo.count)/\(b.hi.count) values for shape \(b.shape)")
            }
            if n > Engine.maxElements { throw .tooLarge(tensor: name, elements: n) }
            if let s = graph.shapes[name], s != b.shape {
                throw .badFeed(reason: "bounds of '\(name)' have shape \(b.shape), the model's tensor has \(s)")
            }
            if let i = b.lo.indices.first(where: { !(b.lo[$0] <= b.hi[$0]) }) {
                throw .badFeed(reason: "bounds of '\(name)': element \(i) has lo \(b.lo[i]) > hi \(b.hi[i]) (or NaN)")
            }
        }
        let nodes = graph.graph.nodes
        // The nodes the requested tensors need: producers of non-constant tensors, stopping at
        // tensors the domain gives; guard conditions are needed by the nodes they guard.
        var wanted = Set<Int>()
        if let needed {
            var stack = Array(needed)
            var seen = Set<String>()
            while let t = stack.popLast() {
                guard seen.insert(t).inserted, domain[t] == nil, graph.constants[t] == nil, let p = graph.producer[t] else { continue }
                wanted.insert(p)
                stack.append(contentsOf: nodes[p].inputs.filter { !$0.isEmpty })
                stack.append(contentsOf: nodes[p].guards.map(\.condition))
            }
        }
        plan = graph.order.filter { idx in
            let n = nodes[idx]
            // Nodes whose outputs are all folded constants or all given by the domain do not run.
            let live = n.outputs.contains { !$0.isEmpty && graph.constants[$0] == nil && domain[$0] == nil }
            return live && (needed == nil || wanted.contains(idx))
        }
        var last: [String: Int] = [:]
        for (pos, idx) in plan.enumerated() {
            for t in nodes[idx].inputs where !t.isEmpty { last[t] = pos }
            for g in nodes[idx].guards { last[g.condition] = pos }
        }
        lastUse = last
        var types: [String: DataType] = [:]
        for v in graph.graph.inputs + graph.graph.outputs + graph.graph.valueInfo { if let t = v.elementType { types[v.name] = t } }
        declared = types
    }

    /// The integer (or bool) type of `t` when inference and the file agree on it.
    private func integerRange(_ t: String) -> (Float, Float)? {
        guard let inferred = graph.dtypes[t], let r = IntervalRun.typeRange(inferred) else { return nil }
        if let d = declared[t], d != inferred { return nil }
        return r
    }

    private func keeps(_ t: String) -> Bool { needed?.contains(t) ?? true }

    mutating func evaluate() throws(ReferenceError) -> [String: TensorBounds] {
        try seedInputs()
        let nodes = graph.graph.nodes
        for (pos, idx) in plan.enumerated() {
            let n = nodes[idx]
            if !excluded(n) {
                for o in n.outputs where !o.isEmpty {
                    if let s = graph.shapes[o], let c = Shapes.checkedProduct(s), c > Engine.maxElements {
                        throw .tooLarge(tensor: o, elements: c)
                    }
                }
                let results = try evaluateNode(n)
                for (k, o) in n.outputs.enumerated() where !o.isEmpty && domain[o] == nil && graph.constants[o] == nil {
                    if let b = try finish(n, o, k < results.count ? results[k] : nil) { values[o] = b }
                }
            }
            // Free what no later node reads.
            for t in n.inputs + n.guards.map(\.condition) where !t.isEmpty && lastUse[t] == pos && !keeps(t) {
                values[t] = nil
            }
        }
        guard let needed else { return values }
        var out: [String: TensorBounds] = [:]
        for t in needed {
            if let b = values[t] { out[t] = b } else if let c = graph.constants[t] { out[t] = IntervalNode.point(c) }
        }
        return out
    }

    /// Graph inputs the plan reads: the domain's bounds, else the range of an integer or bool
    /// type, else unbounded (a float input without a domain); internal tensors the domain
    /// overrides.
    private mutating func seedInputs() throws(ReferenceError) {
        for (name, b) in domain { values[name] = b }
        for vi in graph.inputs where domain[vi.name] == nil {
            guard let s = graph.shapes[vi.name], lastUse[vi.name] != nil || needed?.contains(vi.name) == true else { continue }
            if let n = Shapes.checkedProduct(s), n > Engine.maxElements { throw .tooLarge(tensor: vi.name, elements: n) }
            let t = graph.dtypes[vi.name] ?? vi.elementType ?? .float
            if let r = IntervalRun.typeRange(t) {
                values[vi.name] = TensorBounds(shape: s, lo: r.0, hi: r.1)
            } else {
                values[vi.name] = .unbounded(shape: s)
            }
        }
    }

    /// Whether a branch condition the node runs under is known to be false (a point).
    private func excluded(_ n: Node) -> Bool {
        for g in n.guards {
            let b = values[g.condition] ?? graph.constants[g.condition].map(IntervalNode.point)
            guard let b, b.count >= 1, b.lo[0] == b.hi[0] else { continue }
            if (b.lo[0] != 0) != g.branch { return true }
        }
        return false
    }

    private func evaluateNode(_ n: Node) throws(ReferenceError) -> [TensorBounds?] {
        var evaluated: [TensorBounds?] = [], constants: [Tensor?] = [], dtypes: [DataType?] = []
        for t in n.inputs {
            if t.isEmpty { evaluated.append(nil); constants.append(nil); dtypes.append(nil); continue }
            let v = values[t]
            evaluated.append(v)
            constants.append(v == nil ? graph.constants[t] : nil)
            dtypes.append(graph.dtypes[t] ?? graph.constants[t]?.dataType)
        }
        let ctx = IntervalNode(node: n, opset: opset, evaluated: evaluated, constants: constants, dtypes: dtypes,
                               outShapes: n.outputs.map { graph.shapes[$0] }, outTypes: n.outputs.map { graph.dtypes[$0] })
        guard let rule = IntervalEvaluator.rule(for: n) else { return [] }
        do {
            return try rule(ctx)
        } catch {
            // A node of an If branch may not fit the shapes of the branch that is not taken.
            if case .tooLarge = error { throw error }
            if !n.guards.isEmpty { return [] }
            throw error
        }
    }

    /// Checks a rule's result, replaces NaN by infinite bounds, and keeps integer tensors
    /// inside their type (an integer result is the floor, ceiling or truncation of the real
    /// one: [⌊lo⌋, ⌈hi⌉] contains it; out of range it may wrap: the whole type range).
    /// No result: unbounded, or the type's range, when the shape is known. The type is trusted
    /// only when inference and any type the file declares agree.
    private func finish(_ n: Node, _ o: String, _ result: TensorBounds?) throws(ReferenceError) -> TensorBounds? {
        guard var b = result else {
            guard let s = graph.shapes[o] else { return nil }
            if let r = integerRange(o) { return TensorBounds(shape: s, lo: r.0, hi: r.1) }
            return .unbounded(shape: s)
        }
        guard let c = Shapes.checkedProduct(b.shape), c == b.lo.count, c == b.hi.count else {
            throw .badNode(node: n.name, op: n.opType, reason: "interval bounds of '\(o)': \(b.lo.count) values for shape \(b.shape)")
        }
        if c > Engine.maxElements { throw .tooLarge(tensor: o, elements: c) }
        b.sanitize()
        if let (rl, rh) = integerRange(o) {
            for i in 0..<c {
                let l = b.lo[i].rounded(.down), h = b.hi[i].rounded(.up)
                if l >= rl && h <= rh { b.lo[i] = l; b.hi[i] = h } else { b.lo[i] = rl; b.hi[i] = rh }
            }
        }
        return b
    }

    /// The values an integer or bool type can hold, as floats rounded outward; nil for
    /// floating and non-numeric types.
    static func typeRange(_ t: DataType) -> (Float, Float)? {
        switch t {
        case .bool: return (0, 1)
        case .uint8: return (0, 255)
        case .int8: return (-128, 127)
        case .uint16: return (0, 65535)
        case .int16: return (-32768, 32767)
        case .uint32: return (0, Outward.floatUp(4_294_967_295))
        case .int32: return (-2_147_483_648, Outward.floatUp(2_147_483_647))
        case .uint64: return (0, Outward.floatUp(0x1p64))
        case .int64: return (-0x1p63, Outward.floatUp(0x1p63))
        default: return nil
        }
    }
}
