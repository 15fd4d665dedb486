/// Static shape inference for the op set Kappa analyses (DESIGN.md §1.2), run in
/// topological order from the inputs' shapes. Unknown ops leave their outputs without a
/// shape (reported later as unsupported); clear inconsistencies (a Conv whose channels
/// do not match its weight, a Gemm with mismatched inner dimensions) are errors.
struct ShapeInference: Sendable {
    let path: String
    var shapes: [String: [Int]]
    var dtypes: [String: DataType]
    var notes: [String] = []
    /// Element types declared in the graph's value_info and outputs (used where no rule applies).
    var declared: [String: DataType] = [:]
    /// Ranks declared by the graph (symbolic dimensions still give a rank), for validation.
    var declaredRank: [String: Int] = [:]

    init(path: String, shapes: [String: [Int]], dtypes: [String: DataType], declared: [String: DataType] = [:]) {
        self.path = path
        self.shapes = shapes
        self.dtypes = dtypes
        self.declared = declared
    }

    static let elementwiseUnary: Set<String> = [
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus",
        "Softsign", "Gelu", "Identity", "Dropout", "Clip", "Cast", "Softmax", "LogSoftmax", "LRN",
        "BatchNormalization", "InstanceNormalization", "LayerNormalization", "Neg", "Abs", "Exp", "Log", "Sqrt",
        "Reciprocal", "Erf", "QuantizeLinear", "DequantizeLinear", "Mish", "Celu", "ThresholdedRelu", "Floor",
        "Ceil", "Round", "Sign", "Not", "IsNaN", "IsInf", "Sin", "Cos", "Shrink", "Hardmax",
    ]
    static let elementwiseBinary: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean", "Pow", "Equal", "Less", "Greater", "And", "Or",
        "Where", "LessOrEqual", "GreaterOrEqual", "Mod", "BitShift",
    ]

    /// Shapes the file declares (value_info, outputs) with their symbolic dimensions bound to the
    /// values the inputs fixed: used for an output inference cannot shape.
    var declaredShapes: [String: [Int]] = [:]

    mutating func visit(_ n: Node, constants: [String: Tensor]) throws(ONNXError) {
        try infer(n, constants: constants)
        for o in n.outputs where !o.isEmpty && shapes[o] == nil {
            if let d = declaredShapes[o], Shapes.isPlausible(d) { shapes[o] = d }
        }
    }

    mutating func infer(_ n: Node, constants: [String: Tensor]) throws(ONNXError) {
        // Folded constants know their shapes.
        var allKnown = true
        for o in n.outputs where !o.isEmpty {
            if let c = constants[o] {
                guard Shapes.isPlausible(c.dims) else {
                    throw .badNode(path: path, node: n.name, reason: "constant output '\(o)' has an invalid shape \(c.dims)")
                }
                shapes[o] = c.dims
                dtypes[o] = c.dataType
            } else {
                allKnown = false
            }
        }
        if allKnown { return }
        let inTypes = n.inputs.map { $0.isEmpty ? nil : dtypes[$0] }
        for (o, t) in zip(n.outputs, DTypeRules.outputs(n, inputs: inTypes, constants: constants)) where !o.isEmpty {
            if let t { dtypes[o] = t } else if let d = declared[o] { dtypes[o] = d }
        }
        let ins: [[Int]?] = n.inputs.map { $0.isEmpty ? nil : shapes[$0] }
        guard let x = ins.first ?? nil else { return }
        func fail(_ reason: String) -> ONNXError { .badNode(path: path, node: n.name, reason: reason) }
        func set(_ s: [Int], _ i: Int = 0) throws(ONNXError) {
            guard Shapes.isPlausible(s) else {
                throw fail("inferred output shape \(s) has a negative extent or more than \(Shapes.maxElements) elements")
            }
            if i < n.outputs.count, !n.outputs[i].isEmpty { shapes[n.outputs[i]] = s }
        }
        /// Sum of extents with overflow reported as an error.
        func add(_ a: Int, _ b: Int) throws(ONNXError) -> Int {
            let (v, o) = a.addingReportingOverflow(b)
            if o { throw fail("shape arithmetic overflows: \(a) + \(b)") }
            return v
        }
        if QuantizedShapes.handles(n) {
            for (i, s) in QuantizedShapes.outputs(n, ins).enumerated() { if let s { try set(s, i) } }
            return
        }
        let op = n.opType
        switch op {
        case _ where Self.elementwiseUnary.contains(op):
            try set(x)
            if op == "Dropout", n.outputs.count > 1 { try set(x, 1) }
            if op == "BatchNormalization" || op == "LayerNormalization" {
                // extra training-mode outputs are not shaped
            }
        case _ where Self.elementwiseBinary.contains(op):
            var s = x
            for case let other? in ins.dropFirst() {
                guard let b = Shapes.broadcast(s, other) else { throw fail("cannot broadcast \(s) with \(other)") }
                s = b
            }
            if ins.dropFirst().contains(where: { $0 == nil }) && n.inputs.dropFirst().contains(where: { !$0.isEmpty }) { return }
            try set(s)
        case "Conv", "ConvTranspose":
            guard ins.count >= 2, let w = ins[1] else { return }
            guard x.count >= 3, w.count == x.count else { throw fail("input \(x) and weight \(w) ranks do not match") }
            let group = n.int("group") ?? 1
            guard group >= 1 else { throw fail("group \(group) < 1") }
            let kernel = Array(w[2...])
            if let ks = n.ints("kernel_shape"), ks != kernel {
                throw fail("kernel_shape \(ks) does not match the weight \(w)")
            }
            let spatial = Array(x[2...])
            if op == "Conv" {
                guard x[1] == w[1] * group, w[0] % group == 0 else {
                    throw fail("input has \(x[1]) channels but weight \(w) with group \(group) expects \(w[1] * group)")
                }
                let geo = try WindowGeometry.resolve(node: n, input: spatial, kernel: kernel, path: path)
                try set([x[0], w[0]] + geo.output)
            } else {
                guard x[1] == w[0], w[0] % group == 0 else {
                    throw fail("input has \(x[1]) channels but ConvTranspose weight \(w) expects \(w[0])")
                }
                let geo = try WindowGeometry.resolveTranspose(node: n, input: spatial, kernel: kernel, path: path)
                try set([x[0], w[1] * group] + geo.output)
            }
        case "MaxPool", "AveragePool", "LpPool":
            guard x.count >= 3, let k = n.ints("kernel_shape") else {
                throw .badAttribute(path: path, node: n.name, attribute: "kernel_shape", reason: "missing or input rank < 3")
            }
            let geo = try WindowGeometry.resolve(node: n, input: Array(x[2...]), kernel: k,
                                                 ceilMode: n.int("ceil_mode") == 1, path: path)
            try set([x[0], x[1]] + geo.output)
            if n.outputs.count > 1 { try set([x[0], x[1]] + geo.output, 1) }
        case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
            guard x.count >= 3 else { throw fail("input rank \(x.count) < 3") }
            try set([x[0], x[1]] + Array(repeating: 1, count: x.count - 2))
        case "Gemm":
            guard ins.count >= 2, let b = ins[1], x.count == 2, b.count == 2 else { return }
            let ta = n.int("transA") == 1, tb = n.int("transB") == 1
            let (m, k1) = ta ? (x[1], x[0]) : (x[0], x[1])
            let (k2, nn) = tb ? (b[1], b[0]) : (b[0], b[1])
            guard k1 == k2 else { throw fail("Gemm inner dimensions differ: A \(x) and B \(b) (transA \(ta), transB \(tb))") }
            try set([m, nn])
        case "MatMul":
            guard ins.count >= 2, let b = ins[1] else { return }
            let a2 = x.count == 1 ? [1] + x : x
            let b2 = b.count == 1 ? b + [1] : b
            guard a2.count >= 2, b2.count >= 2, a2[a2.count - 1] == b2[b2.count - 2] else {
                throw fail("MatMul inner dimensions differ: \(x) × \(b)")
            }
            guard let batch = Shapes.broadcast(Array(a2.dropLast(2)), Array(b2.dropLast(2))) else {
                throw fail("MatMul batch dimensions do not broadcast: \(x) × \(b)")
            }
            var s = batch + [a2[a2.count - 2], b2[b2.count - 1]]
            if x.count == 1 { s.remove(at: s.count - 2) }
            if b.count == 1 { s.removeLast() }
            try set(s)
        case "Flatten":
            guard let a = Shapes.axis(n.int("axis") ?? 1, rank: x.count + 1) else { throw fail("axis out of range") }
            try set([x[..<a].reduce(1, *), x[a...].reduce(1, *)])
        case "Reshape":
            guard let t = n.input(1).flatMap({ constants[$0] }) else { return }
            guard let s = Shapes.reshape(x, to: t.int64s().map { Int($0) }, allowZero: n.int("allowzero") == 1) else {
                throw fail("cannot reshape \(x) to \(t.int64s())")
            }
            try set(s)
        case "Transpose":
            let perm = n.ints("perm") ?? Array((0..<x.count).reversed())
            guard perm.count == x.count, Set(perm) == Set(0..<x.count) else { throw fail("perm \(perm) does not fit rank \(x.count)") }
            try set(perm.map { x[$0] })
        case "Squeeze":
            let axes = n.ints("axes") ?? n.input(1).flatMap { constants[$0] }?.int64s().map { Int($0) }
            let drop = Set((axes ?? (0..<x.count).filter { x[$0] == 1 }).compactMap { Shapes.axis($0, rank: x.count) })
            if let bad = drop.sorted().first(where: { x[$0] != 1 }) {
                throw fail("cannot squeeze axis \(bad) of extent \(x[bad]) in \(x)")
            }
            try set(x.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
        case "Unsqueeze":
            guard let axes = n.ints("axes") ?? n.input(1).flatMap({ constants[$0] })?.int64s().map({ Int($0) }) else { return }
            let r = x.count + axes.count
            let ins = Set(axes.compactMap { Shapes.axis($0, rank: r) })
            var it = x.makeIterator()
            try set((0..<r).map { ins.contains($0) ? 1 : (it.next() ?? 1) })
        case "Concat":
            guard let axis = n.int("axis"), let a = Shapes.axis(axis, rank: x.count) else {
                throw .badAttribute(path: path, node: n.name, attribute: "axis", reason: "missing or out of range")
            }
            var s = x
            s[a] = 0
            for case let t? in ins {
                guard t.count == x.count else { throw fail("cannot concatenate \(x) and \(t)") }
                s[a] = try add(s[a], t[a])
            }
            if ins.contains(where: { $0 == nil }) { return }
            try set(s)
        case "Split":
            guard let a = Shapes.axis(n.int("axis") ?? 0, rank: x.count) else { throw fail("axis out of range") }
            let parts = n.ints("split") ?? n.input(1).flatMap { constants[$0] }?.int64s().map { Int($0) }
            let k = n.outputs.count
            let sizes = parts ?? {
                let chunk = (x[a] + k - 1) / max(k, 1)
                return (0..<k).map { i in max(0, min(chunk, x[a] - i * chunk)) }
            }()
            guard sizes.count == k, sizes.allSatisfy({ $0 >= 0 && $0 <= x[a] }),
                  sizes.reduce(0, +) == x[a] else { throw fail("split sizes \(sizes) do not sum to \(x[a])") }
            for (i, sz) in sizes.enumerated() {
                var s = x
                s[a] = sz
                try set(s, i)
            }
        case "Pad":
            let pads = n.ints("pads") ?? n.input(1).flatMap { constants[$0] }?.int64s().map { Int($0) }
            guard var p = pads else { return }
            if let axesT = n.input(3).flatMap({ constants[$0] }) {
                let axes = axesT.int64s().compactMap { Shapes.axis(Int($0), rank: x.count) }
                var full = Array(repeating: 0, count: 2 * x.count)
                for (i, a) in axes.enumerated() where i + axes.count < p.count {
                    full[a] = p[i]
                    full[a + x.count] = p[i + axes.count]
                }
                p = full
            }
            guard p.count == 2 * x.count else { throw fail("pads \(p) do not fit rank \(x.count)") }
            guard p.allSatisfy({ abs($0) <= Shapes.maxElements }) else { throw fail("pads \(p) are out of range") }
            try set((0..<x.count).map { x[$0] + p[$0] + p[$0 + x.count] })
        case "Slice":
            var starts: [Int], ends: [Int], axes: [Int], steps: [Int]
            if let s = n.ints("starts"), let e = n.ints("ends") {
                (starts, ends) = (s, e)
                axes = n.ints("axes") ?? Array(0..<s.count)
                steps = Array(repeating: 1, count: s.count)
            } else {
                guard let s = n.input(1).flatMap({ constants[$0] }), let e = n.input(2).flatMap({ constants[$0] }) else { return }
                starts = s.int64s().map { Int(clamping: $0) }
                ends = e.int64s().map { Int(clamping: $0) }
                axes = n.input(3).flatMap { constants[$0] }?.int64s().map { Int($0) } ?? Array(0..<starts.count)
                steps = n.input(4).flatMap { constants[$0] }?.int64s().map { Int($0) } ?? Array(repeating: 1, count: starts.count)
            }
            guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else { throw fail("starts/ends/axes/steps lengths differ") }
            var s = x
            for k in 0..<starts.count {
                guard let a = Shapes.axis(axes[k], rank: x.count) else { throw fail("axis \(axes[k]) out of range") }
                guard steps[k] != 0 else { throw fail("slice step 0") }
                s[a] = Shapes.sliceCount(start: starts[k], end: ends[k], step: steps[k], dim: x[a])
            }
            try set(s)
        case "Gather":
            guard ins.count >= 2, let idx = ins[1], let a = Shapes.axis(n.int("axis") ?? 0, rank: x.count) else { return }
            try set(Array(x[..<a]) + idx + Array(x[(a + 1)...]))
        case "Resize", "Upsample":
            func scaled(_ x: [Int], _ scales: [Double]) throws(ONNXError) -> [Int] {
                var out: [Int] = []
                for (d, f) in zip(x, scales) {
                    let v = (Double(d) * f).rounded(.down)
                    guard v.isFinite, v >= 0, v <= Double(Shapes.maxElements) else {
                        throw fail("scale \(f) on extent \(d) gives no valid output extent")
                    }
                    out.append(Int(v))
                }
                return out
            }
            // scales (input 2 for Resize ≥ 11, input 1 for Upsample/Resize-10) or sizes (input 3).
            if let sizes = n.input(3).flatMap({ constants[$0] }), sizes.count == x.count {
                try set(sizes.int64s().map { Int($0) })
            } else if let sc = (op == "Upsample" || n.inputs.count == 2 ? n.input(1) : n.input(2)).flatMap({ constants[$0] }) ?? nil,
                      sc.count == x.count {
                try set(scaled(x, sc.doubles()))
            } else if let sc = n.floats("scales"), sc.count == x.count {
                try set(scaled(x, sc.map(Double.init)))
            }
        case "ReduceMax", "ReduceMean", "ReduceSum", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceSumSquare", "ReduceLogSumExp", "ArgMax", "ArgMin":
            let keep = (n.int("keepdims") ?? 1) == 1
            var axes = n.ints("axes") ?? n.input(1).flatMap { constants[$0] }?.int64s().map { Int($0) }
            if op == "ArgMax" || op == "ArgMin" { axes = [n.int("axis") ?? 0] }
            let all = axes == nil || axes?.isEmpty == true
            if all && n.int("noop_with_empty_axes") == 1 { try set(x); return }
            let red = Set(all ? Array(0..<x.count) : (axes ?? []).compactMap { Shapes.axis($0, rank: x.count) })
            try set(keep ? x.enumerated().map { red.contains($0.offset) ? 1 : $0.element }
                     : x.enumerated().filter { !red.contains($0.offset) }.map(\.element))
        case "Shape":
            try set([x.count])
        case "Expand":
            guard let t = n.input(1).flatMap({ constants[$0] }) else { return }
            guard let out = Shapes.broadcast(x, t.int64s().map { Int(clamping: $0) }) else {
                throw fail("cannot expand \(x) to \(t.int64s())")
            }
            try set(out)
        case "Tile":
            guard let r = n.input(1).flatMap({ constants[$0] })?.int64s(), r.count == x.count else { return }
            var out: [Int] = []
            for (d, k) in zip(x, r) {
                guard k >= 0, let v = Shapes.checkedProduct([d, Int(clamping: k)]) else { throw fail("repeats \(r) do not fit \(x)") }
                out.append(v)
            }
            try set(out)
        case "PRelu":
            guard ins.count >= 2, let slope = ins[1] else { return }
            guard let out = Shapes.broadcast(x, slope) else { throw fail("cannot broadcast \(x) with slope \(slope)") }
            try set(out)
        case "CumSum", "Softsign", "Celu", "Mish", "Trilu", "GroupNormalization", "Hardmax", "Shrink", "ThresholdedRelu":
            try set(x)
        case "TopK":
            guard let k = n.input(1).flatMap({ constants[$0] })?.int64s().first,
                  let a = Shapes.axis(n.int("axis") ?? -1, rank: x.count) else { return }
            var out = x
            out[a] = Int(clamping: k)
            try set(out, 0)
            try set(out, 1)
        case "DynamicQuantizeLinear":
            try set(x, 0)
            try set([], 1)
            try set([], 2)
        case "GatherElements":
            guard ins.count >= 2, let idx = ins[1] else { return }
            try set(idx)
        case "MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul", "MatMulIntegerToFloat":
            let bIndex = op == "QLinearMatMul" ? 3 : 1
            guard ins.count > bIndex, let b = ins[bIndex] else { return }
            let a2 = x.count == 1 ? [1] + x : x
            let b2 = b.count == 1 ? b + [1] : b
            guard a2.count >= 2, b2.count >= 2, a2[a2.count - 1] == b2[b2.count - 2],
                  let batch = Shapes.broadcast(Array(a2.dropLast(2)), Array(b2.dropLast(2))) else {
                throw fail("\(op) inner dimensions differ: \(x) × \(b)")
            }
            var out = batch + [a2[a2.count - 2], b2[b2.count - 1]]
            if x.count == 1 { out.remove(at: out.count - 2) }
            if b.count == 1 { out.removeLast() }
            try set(out)
        case "ConvInteger", "QLinearConv":
            let wIndex = op == "QLinearConv" ? 3 : 1
            guard ins.count > wIndex, let w = ins[wIndex], x.count >= 3, w.count == x.count else { return }
            let geo = try WindowGeometry.resolve(node: n, input: Array(x[2...]), kernel: Array(w[2...]), path: path)
            try set([x[0], w[0]] + geo.output)
        case "LSTM", "GRU", "RNN":
            // X: [T, N, I] (layout 0) or [N, T, I]; outputs Y [T, D, N, H], Y_h (and Y_c) [D, N, H].
            guard x.count == 3, let h = n.int("hidden_size") else { return }
            let d = n.string("direction") == "bidirectional" ? 2 : 1
            let batchFirst = n.int("layout") == 1
            let (t, b) = batchFirst ? (x[1], x[0]) : (x[0], x[1])
            try set(batchFirst ? [b, t, d, h] : [t, d, b, h], 0)
            for i in 1..<max(n.outputs.count, 1) { try set(batchFirst ? [b, d, h] : [d, b, h], i) }
        default:
            return
        }
    }
}
