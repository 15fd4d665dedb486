import ONNX

/// The float32 reference engine: evaluates the part of a `ModelGraph` that computes one
/// output tensor from the data inputs, keeps every activation (the `Trace`), and
/// back-propagates a batch of cotangents to the data input.
///
/// Forward runs with the batch the inputs carry (usually 1); `vjp` then takes k cotangent
/// rows for the output and returns k rows for the input, broadcasting the saved
/// activations, so DeepFool's k class gradients cost one backward pass with batch k.
/// Constants (initializers, Constant nodes, folded chains) are taken from `ModelGraph`;
/// nodes whose outputs are all constant are not evaluated.
public final class Engine {
    public let graph: ModelGraph
    /// The tensor the engine computes.
    public let output: String
    /// The data input that `vjp` differentiates with respect to.
    public let input: String
    /// Node indices needed for `output`, in topological order.
    let plan: [Int]
    /// Tensors that depend on the data inputs (the rest are constants).
    let variable: Set<String>
    let opset: Int
    private var kernels: [Int: (shapes: [[Int]?], kernel: any Kernel)] = [:]
    /// Largest tensor the engine evaluates: 2³⁰ float32 elements (4.3 GB).
    public static let maxElements = 1 << 30
    private var constantValues: [String: Value] = [:]

    /// The evaluated tensors of one forward pass, by name (data inputs included).
    public struct Trace {
        public internal(set) var values: [String: Value]
        public let output: String
        /// The output tensor's value.
        public var result: Value { values[output] ?? Value(zeros: [0]) }
    }

    /// Prepares `output` (default: the graph's first output) for evaluation and checks that
    /// every node on the way has a reference implementation.
    public init(graph: ModelGraph, output: String? = nil, input: String? = nil) throws(ReferenceError) {
        self.graph = graph
        guard let first = input ?? graph.inputs.first?.name else { throw .badFeed(reason: "the model has no data input") }
        self.input = first
        guard let out = output ?? graph.graph.outputs.first?.name else {
            throw .badOutput(name: "?", reason: "the model declares no output")
        }
        self.output = out
        opset = graph.model.opsets[""] ?? graph.model.opsets["ai.onnx"] ?? 21
        let nodes = graph.graph.nodes
        // Tensors computed from the data inputs.
        var variable = Set(graph.inputs.map(\.name))
        for idx in graph.order {
            let n = nodes[idx]
            if n.inputs.contains(where: { variable.contains($0) }) {
                for o in n.outputs where !o.isEmpty && graph.constants[o] == nil { variable.insert(o) }
            }
        }
        guard variable.contains(out) else {
            let known = graph.producer[out] != nil || graph.constants[out] != nil
            throw .badOutput(name: out, reason: known ? "it does not depend on the model's data input"
                                                      : "no node or input of the model produces it")
        }
        self.variable = variable
        // Nodes the output needs (walk producers back from the output).
        var needed = Set<Int>()
        var stack = [out]
        var seen = Set<String>()
        while let t = stack.popLast() {
            guard seen.insert(t).inserted, variable.contains(t), let p = graph.producer[t] else { continue }
            needed.insert(p)
            stack.append(contentsOf: nodes[p].inputs.filter { !$0.isEmpty })
        }
        plan = graph.order.filter { needed.contains($0) }
        // Memory: refuse, before anything is allocated, a tensor the engine cannot hold.
        for t in [first] + plan.flatMap({ nodes[$0].outputs }) where !t.isEmpty {
            if let s = graph.shapes[t], let n = Shapes.checkedProduct(s), n > Self.maxElements {
                throw .tooLarge(tensor: t, elements: n)
            }
        }
        for idx in plan {
            let n = nodes[idx]
            guard n.domain.isEmpty || n.domain == "ai.onnx", Kernels.factories[n.opType] != nil else {
                throw .unsupportedOp(node: n.name, op: n.domain.isEmpty ? n.opType : "\(n.domain):\(n.opType)")
            }
        }
    }

    /// The static shape of the data input, when shape inference knows it.
    public var inputShape: [Int]? { graph.shapes[input] }

    /// Runs the forward pass on one value for the data input.
    public func forward(_ x: Value) throws(ReferenceError) -> Trace {
        try forward([input: x])
    }

    /// Runs the forward pass on values for the data inputs, by name.
    public func forward(_ feeds: [String: Value]) throws(ReferenceError) -> Trace {
        var values: [String: Value] = [:]
        for vi in graph.inputs {
            guard let v = feeds[vi.name] else { throw .badFeed(reason: "no value given for input '\(vi.name)'") }
            guard v.shape.reduce(1, *) == v.data.count else {
                throw .badFeed(reason: "input '\(vi.name)': \(v.data.count) values for shape \(v.shape)")
            }
            values[vi.name] = v
        }
        let nodes = graph.graph.nodes
        for idx in plan {
            let n = nodes[idx]
            var operands: [Value?] = []
            operands.reserveCapacity(n.inputs.count)
            for name in n.inputs {
                if name.isEmpty { operands.append(nil) } else if let v = values[name] { operands.append(v) } else {
                    operands.append(try constantValue(name, node: n))
                }
            }
            let kernel = try kernel(for: idx, operands: operands)
            let outs = try kernel.forward(operands)
            for (o, v) in zip(n.outputs, outs) where !o.isEmpty { values[o] = v }
        }
        return Trace(values: values, output: output)
    }

    /// The vector-Jacobian product: given `rows` cotangents of the output, back to back
    /// (`rows × output.count` floats), returns `rows` cotangents of the data input `wrt`
    /// (default: the first data input).
    public func vjp(_ trace: Trace, cotangents: [Float], rows: Int, wrt: String? = nil) throws(ReferenceError) -> [Float] {
        let target = wrt ?? input
        let outCount = trace.result.count
        guard rows >= 1, cotangents.count == rows * outCount else {
            throw .badFeed(reason: "\(cotangents.count) cotangent values for \(rows) rows of \(outCount)")
        }
        var grads: [String: [Float]] = [output: cotangents]
        let nodes = graph.graph.nodes
        for idx in plan.reversed() {
            let n = nodes[idx]
            guard n.outputs.contains(where: { grads[$0] != nil }) else { continue }
            var outs: [Value] = []
            var gouts: [[Float]] = []
            for o in n.outputs {
                let v = o.isEmpty ? nil : trace.values[o]
                outs.append(v ?? Value(zeros: [0]))
                gouts.append(grads.removeValue(forKey: o) ?? .zeros(rows * (v?.count ?? 0)))
            }
            var operands: [Value?] = []
            for name in n.inputs {
                if name.isEmpty { operands.append(nil) } else if let v = trace.values[name] { operands.append(v) } else {
                    operands.append(try constantValue(name, node: n))
                }
            }
            let wants = n.inputs.map { !$0.isEmpty && variable.contains($0) }
            let kernel = try kernel(for: idx, operands: operands)
            let gins = try kernel.backward(BackwardArgs(inputs: operands, outputs: outs, grads: gouts, rows: rows, wants: wants))
            for (i, name) in n.inputs.enumerated() where i < gins.count && wants[i] {
                guard let g = gins[i] else { continue }
                if grads[name] == nil { grads[name] = g } else { accumulate(&grads[name, default: []], g) }
            }
        }
        let inCount = trace.values[target]?.count ?? 0
        return grads[target] ?? .zeros(rows * inCount)
    }

    private func constantValue(_ name: String, node: Node) throws(ReferenceError) -> Value {
        if let v = constantValues[name] { return v }
        guard let t = graph.constants[name] else {
            throw .badNode(node: node.name, op: node.opType, reason: "input '\(name)' has no value (not computed, not a constant)")
        }
        let v = Value(shape: t.dims, data: t.dataType.isNumeric ? t.floats() : [])
        constantValues[name] = v
        return v
    }

    private func kernel(for idx: Int, operands: [Value?]) throws(ReferenceError) -> any Kernel {
        let shapes = operands.map { $0?.shape }
        if let cached = kernels[idx], cached.shapes == shapes { return cached.kernel }
        let n = graph.graph.nodes[idx]
        guard let factory = Kernels.factories[n.opType] else { throw .unsupportedOp(node: n.name, op: n.opType) }
        let consts = n.inputs.map { $0.isEmpty ? nil : graph.constants[$0] }
        let k = try factory(KernelContext(node: n, shapes: shapes, constants: consts, opset: opset))
        kernels[idx] = (shapes, k)
        return k
    }
}
