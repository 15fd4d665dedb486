/// Finds every tensor that does not depend on the graph's data inputs and materialises
/// it: initializers, Constant and ConstantOfShape nodes, and constant-only chains through
/// Identity, Cast, Reshape, Flatten, Transpose, Squeeze/Unsqueeze, QuantizeLinear and
/// DequantizeLinear (fake-quantized or stored-quantized weights), and
/// the shape arithmetic exporters emit (Shape, Gather, Concat, Slice, elementwise ops).
///
/// Zero-copy ops (Identity, Reshape, Flatten, Squeeze, Unsqueeze, Dropout) rename the
/// source tensor and keep its storage; computing ops produce `folded` tensors. Sizes are
/// checked before anything is allocated.
public struct ConstantFolder: Sendable {
    /// Largest constant folding will materialise (elements).
    public static let maxElements = 1 << 28
    /// Largest constant the generic (index-by-index) ops will compute.
    static let maxComputed = 1 << 26

    let path: String
    public private(set) var constants: [String: Tensor] = [:]

    init(path: String) {
        self.path = path
    }

    /// The initializers registered with ``add(_:)``, in order.
    private(set) var initializers: [Tensor] = []

    /// Registers an initializer (or a subgraph's, under its flat name).
    mutating func add(_ t: Tensor) {
        constants[t.name] = t
        initializers.append(t)
    }

    mutating func visit(_ n: Node, shapes: [String: [Int]]) throws(ONNXError) {
        guard let out = n.outputs.first, !out.isEmpty, n.domain.isEmpty || n.domain == "ai.onnx" || Self.foldsContribOp(n) else { return }
        if let t = try fold(n, out: out, shapes: shapes) {
            constants[out] = t
        }
    }

    /// com.microsoft QuantizeLinear/DequantizeLinear (onnxruntime's QDQ with contrib ops) fold
    /// like the standard ops: same inputs, `axis` attribute.
    static func foldsContribOp(_ n: Node) -> Bool {
        n.domain == "com.microsoft" && (n.opType == "DequantizeLinear" || n.opType == "QuantizeLinear")
    }

    private func const(_ n: Node, _ i: Int) -> Tensor? {
        n.input(i).flatMap { constants[$0] }
    }

    private func allInputsConstant(_ n: Node) -> Bool {
        n.inputs.allSatisfy { $0.isEmpty || constants[$0] != nil }
    }

    private func checkSize(_ n: Node, _ count: Int, limit: Int = ConstantFolder.maxElements) throws(ONNXError) {
        if count > limit { throw .constantTooLarge(path: path, node: n.name, elements: count) }
    }

    private func fold(_ n: Node, out: String, shapes: [String: [Int]]) throws(ONNXError) -> Tensor? {
        switch n.opType {
        case "Constant":
            if let t = n.tensor("value") { return t.renamed(out, storage: .constantNode) }
            if case let .float(v)? = n.attributes["value_float"] { return Tensor(name: out, dims: [], floats: [v], storage: .constantNode) }
            if let v = n.floats("value_floats") { return Tensor(name: out, dims: [v.count], floats: v, storage: .constantNode) }
            if let v = n.int("value_int") { return Tensor(name: out, dims: [], int64s: [Int64(v)], storage: .constantNode) }
            if let v = n.ints("value_ints") { return Tensor(name: out, dims: [v.count], int64s: v.map { Int64($0) }, storage: .constantNode) }
            // Strings and sparse tensors are valid Constant values, just not numeric weights.
            let other = ["value_string", "value_strings", "sparse_value"]
            if other.contains(where: { n.attributes[$0] != nil }) { return nil }
            throw .badAttribute(path: path, node: n.name, attribute: "value", reason: "Constant node without a value")
        case "ConstantOfShape":
            guard let s = const(n, 0) else { return nil }
            let dims = s.int64s().map { Int($0) }
            guard dims.allSatisfy({ $0 >= 0 }) else {
                throw .badNode(path: path, node: n.name, reason: "negative dimension in shape \(dims)")
            }
            var count = 1
            for d in dims {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                if o || p > Self.maxElements { throw .constantTooLarge(path: path, node: n.name, elements: o ? Int.max : p) }
                count = p
            }
            let value = n.tensor("value")
            if let v = value, !v.dataType.isFloatingPoint {
                return Tensor(name: out, dims: dims, int64s: Array(repeating: v.count > 0 ? v.int64s()[0] : 0, count: count))
            }
            let fill = value.flatMap { $0.count > 0 ? Float($0.double(at: 0)) : nil } ?? 0
            return Tensor(name: out, dims: dims, floats: Array(repeating: fill, count: count))
        case "Identity", "Dropout":
            return const(n, 0)?.renamed(out)
        default:
            break
        }
        // Shape and Size read only a shape: of a constant, or the inferred one.
        if n.opType == "Shape" || n.opType == "Size", let i = n.input(0), let s = constants[i]?.dims ?? shapes[i] {
            if n.opType == "Size" { return Tensor(name: out, dims: [], int64s: [Int64(Shapes.checkedProduct(s) ?? 0)]) }
            let r = s.count
            let start = Shapes.clampIndex(n.int("start") ?? 0, r)
            let end = Shapes.clampIndex(n.int("end") ?? r, r)
            let dims = start < end ? Array(s[start..<end]) : []
            return Tensor(name: out, dims: [dims.count], int64s: dims.map { Int64($0) })
        }
        guard allInputsConstant(n), let x = const(n, 0) else { return nil }
        switch n.opType {
        case "Reshape":
            guard let s = const(n, 1) else { return nil }
            guard let dims = Shapes.reshape(x.dims, to: s.int64s().map { Int($0) }, allowZero: n.int("allowzero") == 1) else {
                throw .badNode(path: path, node: n.name, reason: "cannot reshape \(x.dims) to \(s.int64s())")
            }
            return x.renamed(out, dims: dims)
        case "Flatten":
            guard let axis = Shapes.axis(n.int("axis") ?? 1, rank: x.dims.count + 1) else { return nil }
            let a = x.dims[..<axis].reduce(1, *)
            return x.renamed(out, dims: [a, x.count / max(a, 1)])
        case "Squeeze":
            let axes = n.ints("axes") ?? const(n, 1)?.int64s().map { Int($0) }
            let r = x.dims.count
            let drop = Set((axes ?? (0..<r).filter { x.dims[$0] == 1 }).compactMap { Shapes.axis($0, rank: r) })
            // Dropping an axis of extent ≠ 1 would change the element count of a zero-copy view.
            if let bad = drop.sorted().first(where: { x.dims[$0] != 1 }) {
                throw .badNode(path: path, node: n.name, reason: "cannot squeeze axis \(bad) of extent \(x.dims[bad]) in \(x.dims)")
            }
            return x.renamed(out, dims: x.dims.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
        case "Unsqueeze":
            guard let axes = n.ints("axes") ?? const(n, 1)?.int64s().map({ Int($0) }) else { return nil }
            let r = x.dims.count + axes.count
            let ins = Set(axes.compactMap { Shapes.axis($0, rank: r) })
            var dims: [Int] = []
            var it = x.dims.makeIterator()
            for i in 0..<r { dims.append(ins.contains(i) ? 1 : (it.next() ?? 1)) }
            return x.renamed(out, dims: dims)
        case "Cast":
            guard let to = n.int("to"), let target = DataType(rawValue: Int32(truncatingIfNeeded: to)) else { return nil }
            if target == x.dataType { return x.renamed(out) }
            try checkSize(n, x.count)
            if target.isFloatingPoint { return Tensor(name: out, dims: x.dims, floats: x.floats()) }
            if target == .bool { return Tensor(name: out, dims: x.dims, bools: (0..<x.count).map { x.double(at: $0) != 0 }) }
            return Tensor(name: out, dims: x.dims, int64s: x.int64s())
        case "Transpose":
            let r = x.dims.count
            let perm = n.ints("perm") ?? Array((0..<r).reversed())
            guard perm.count == r, Set(perm) == Set(0..<r) else {
                throw .badAttribute(path: path, node: n.name, attribute: "perm", reason: "\(perm) is not a permutation of 0..<\(r)")
            }
            try checkSize(n, x.count)
            return TensorOps.transpose(x, perm: perm, name: out)
        case "DequantizeLinear", "QuantizeLinear":
            guard let scale = const(n, 1) else { return nil }
            try checkSize(n, x.count)
            let block = n.int("block_size") ?? 0
            guard block >= 0 else {
                throw .badAttribute(path: path, node: n.name, attribute: "block_size", reason: "\(block) is negative")
            }
            if n.opType == "QuantizeLinear" {
                // Fake-quantized float weights (Q → DQ on a constant): the rounded integers.
                let type = n.int("output_dtype").flatMap { DataType(rawValue: Int32(truncatingIfNeeded: $0)) }
                return try TensorOps.quantize(x, scale: scale, zeroPoint: const(n, 2), axis: n.int("axis") ?? 1, blockSize: block,
                                              outputType: type, name: out, node: n.name, path: path)
            }
            return try TensorOps.dequantize(x, scale: scale, zeroPoint: const(n, 2), axis: n.int("axis") ?? 1, blockSize: block,
                                            name: out, node: n.name, path: path)
        case "Gather", "Concat", "Slice", "Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Reciprocal", "Abs",
             "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Pow", "Max", "Min", "Mod",
             "Not", "Floor", "Ceil", "Round", "Exp", "Log", "Sign", "IsNaN", "IsInf", "Where", "Range", "Size", "Expand",
             "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax":
            // Bound the loops by the inputs' volumes (0 extents counted as 1): an empty
            // tensor with huge extents must not drive an outer loop or a range array.
            var total = 0
            for i in n.inputs where !i.isEmpty {
                guard let v = constants[i].flatMap({ Shapes.volume($0.dims, limit: Self.maxComputed) }) else { return nil }
                total += v
            }
            guard total <= Self.maxComputed else { return nil }
            return try TensorOps.generic(n, inputs: n.inputs.map { $0.isEmpty ? nil : constants[$0] }, name: out, path: path)
        default:
            return nil
        }
    }
}

extension Shapes {
    static func clampIndex(_ i: Int, _ r: Int) -> Int {
        let v = i < 0 ? i + r : i
        return min(max(v, 0), r)
    }
}
