import ONNX

/// The float32 reference engine: evaluates the part of a `ModelGraph` that computes one
/// output tensor from the graph inputs, keeps every activation (the `Trace`), and
/// back-propagates a batch of cotangents to the perturbed tensor.
///
/// - Forward runs every node the output needs whose outputs are not constants: the nodes that
///   depend on the perturbed tensor and those computed at run time from the other inputs
///   alone (shape arithmetic on a symbolic input, masks, a zero initial state made by
///   ConstantOfShape). Integer and bool tensors flow as float32 values tagged with their type
///   (exact below 2²⁴; `Value.dtype`).
/// - The perturbed tensor (`input`) is a graph input or any internal float tensor (an
///   embedding lookup's output): its value is fed, and its producer is not run.
/// - `vjp` takes k cotangent rows for the output and returns k rows for `input`, broadcasting
///   the saved activations, so DeepFool's k class gradients cost one backward pass with batch
///   k. Gradients flow only through tensors that depend on `input`.
public final class Engine {
    public let graph: ModelGraph
    /// The tensor the engine computes.
    public let output: String
    /// The perturbed tensor that `vjp` differentiates with respect to.
    public let input: String
    /// Node indices needed for `output`, in topological order.
    let plan: [Int]
    /// Tensors that depend on `input` (the only ones gradients flow through).
    let variable: Set<String>
    let opset: Int
    private var kernels: [Int: CachedKernel] = [:]
    /// Largest tensor the engine evaluates: 2³⁰ float32 elements (4.3 GB).
    public static let maxElements = 1 << 30
    private var constantValues: [String: Value] = [:]

    struct CachedKernel {
        var shapes: [[Int]?]
        /// The run-time values of the node's parameter inputs (computed, not perturbed) the
        /// kernel was built from.
        var parameters: [Value?]
        var kernel: any Kernel
    }

    /// The evaluated tensors of one forward pass, by name (graph inputs included).
    public struct Trace {
        public internal(set) var values: [String: Value]
        public let output: String
        /// The output tensor's value.
        public var result: Value { values[output] ?? Value(zeros: [0]) }
    }

    /// Prepares `output` (default: the graph's first output) as a function of `input` (default:
    /// the first graph input) and checks that every node on the way has a reference
    /// implementation.
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
        guard graph.producer[first] != nil || graph.inputs.contains(where: { $0.name == first }) else {
            throw .badFeed(reason: "no graph input or node output is named '\(first)'")
        }
        // Tensors that depend on the perturbed one (Shape and Size read only its shape).
        var variable: Set<String> = [first]
        for idx in graph.order {
            let n = nodes[idx]
            if n.opType == "Shape" || n.opType == "Size" { continue }
            if (n.inputs + n.subgraphReferences).contains(where: { variable.contains($0) }) {
                for o in n.outputs where !o.isEmpty && graph.constants[o] == nil { variable.insert(o) }
            }
        }
        guard variable.contains(out) else {
            let known = graph.producer[out] != nil || graph.constants[out] != nil
            throw .badOutput(name: out, reason: known ? "it does not depend on '\(first)'"
                                                      : "no node or input of the model produces it")
        }
        self.variable = variable
        // Nodes the output needs: producers of every non-constant tensor on the way back,
        // stopping at the perturbed tensor (it is fed).
        var needed = Set<Int>()
        var stack = [out]
        var seen = Set<String>()
        while let t = stack.popLast() {
            guard seen.insert(t).inserted, t != first, graph.constants[t] == nil, let p = graph.producer[t] else { continue }
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
            guard Kernels.factory(for: n) != nil else {
                throw .unsupportedOp(node: n.name, op: n.domain.isEmpty || n.domain == "ai.onnx" ? n.opType : "\(n.domain):\(n.opType)")
            }
        }
    }

    /// The graph inputs the forward pass needs values for (the perturbed tensor first when it
    /// is a graph input).
    public var requiredInputs: [ValueInfo] {
        var used = Set<String>()
        let nodes = graph.graph.nodes
        for idx in plan { for i in nodes[idx].inputs where !i.isEmpty { used.insert(i) } }
        used.insert(output)
        return graph.inputs.filter { used.contains($0.name) || $0.name == input }
            .sorted { ($0.name == input ? 0 : 1) < ($1.name == input ? 0 : 1) }
    }

    /// The static shape of the perturbed tensor, when shape inference knows it.
    public var inputShape: [Int]? { graph.shapes[input] }

    /// Runs the forward pass with `x` for the perturbed tensor (a model whose only needed
    /// input it is).
    public func forward(_ x: Value) throws(ReferenceError) -> Trace {
        try forward([input: x])
    }

    /// Runs the forward pass on values for the graph inputs (and the perturbed tensor), by name.
    public func forward(_ feeds: [String: Value]) throws(ReferenceError) -> Trace {
        var values: [String: Value] = [:]
        for vi in requiredInputs {
            guard let v = feeds[vi.name] else { throw .badFeed(reason: "no value given for input '\(vi.name)'") }
            values[vi.name] = v
        }
        if let v = feeds[input] { values[input] = v } else { throw .badFeed(reason: "no value given for '\(input)'") }
        for (name, v) in values where v.shape.reduce(1, *) != v.data.count {
            throw .badFeed(reason: "'\(name)': \(v.data.count) values for shape \(v.shape)")
        }
        let nodes = graph.graph.nodes
        for idx in plan {
            let n = nodes[idx]
            // Nodes of an If branch that is not taken do not run (`Flattener`).
            if !n.guards.isEmpty, try !guardsHold(n.guards, values, node: n) { continue }
            let merge = n.domain == "kappa"
            var operands: [Value?] = []
            operands.reserveCapacity(n.inputs.count)
            for name in n.inputs {
                if name.isEmpty { operands.append(nil) } else if let v = values[name] { operands.append(v) } else if merge && graph.constants[name] == nil {
                    operands.append(nil)  // the branch that did not run
                } else {
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
    /// (`rows × output.count` floats), returns `rows` cotangents of the perturbed tensor.
    public func vjp(_ trace: Trace, cotangents: [Float], rows: Int) throws(ReferenceError) -> [Float] {
        let outCount = trace.result.count
        guard rows >= 1, cotangents.count == rows * outCount else {
            throw .badFeed(reason: "\(cotangents.count) cotangent values for \(rows) rows of \(outCount)")
        }
        var grads: [String: [Float]] = [output: cotangents]
        let nodes = graph.graph.nodes
        for idx in plan.reversed() {
            let n = nodes[idx]
            guard n.outputs.contains(where: { grads[$0] != nil }) else { continue }
            let wants = n.inputs.map { !$0.isEmpty && variable.contains($0) }
            guard wants.contains(true) else { continue }
            var outs: [Value] = []
            var gouts: [[Float]] = []
            for o in n.outputs {
                let v = o.isEmpty ? nil : trace.values[o]
                outs.append(v ?? Value(zeros: [0]))
                gouts.append(grads.removeValue(forKey: o) ?? .zeros(rows * (v?.count ?? 0)))
            }
            var operands: [Value?] = []
            for name in n.inputs {
                if name.isEmpty { operands.append(nil) } else if let v = trace.values[name] { operands.append(v) } else if n.domain == "kappa" && graph.constants[name] == nil {
                    operands.append(nil)
                } else {
                    operands.append(try constantValue(name, node: n))
                }
            }
            let kernel = try kernel(for: idx, operands: operands)
            let gins = try kernel.backward(BackwardArgs(inputs: operands, outputs: outs, grads: gouts, rows: rows, wants: wants))
            for (i, name) in n.inputs.enumerated() where i < gins.count && wants[i] {
                guard let g = gins[i] else { continue }
                if grads[name] == nil { grads[name] = g } else { accumulate(&grads[name, default: []], g) }
            }
        }
        let inCount = trace.values[input]?.count ?? 0
        return grads[input] ?? .zeros(rows * inCount)
    }

    /// Whether every branch condition of a guarded node holds in this pass.
    private func guardsHold(_ guards: [BranchGuard], _ values: [String: Value], node: Node) throws(ReferenceError) -> Bool {
        for g in guards {
            let v: Value
            if let known = values[g.condition] { v = known } else { v = try constantValue(g.condition, node: node) }
            if ((v.data.first ?? 0) != 0) != g.branch { return false }
        }
        return true
    }

    private func constantValue(_ name: String, node: Node) throws(ReferenceError) -> Value {
        if let v = constantValues[name] { return v }
        guard let t = graph.constants[name] else {
            throw .badNode(node: node.name, op: node.opType, reason: "input '\(name)' has no value (not computed, not a constant)")
        }
        let v = Value(shape: t.dims, data: t.dataType.isNumeric ? t.floats() : [], dtype: t.dataType)
        constantValues[name] = v
        return v
    }

    private func kernel(for idx: Int, operands: [Value?]) throws(ReferenceError) -> any Kernel {
        let n = graph.graph.nodes[idx]
        let shapes = operands.map { $0?.shape }
        // Parameter inputs: computed at run time but not perturbed (their values shape the kernel).
        let parameters: [Value?] = n.inputs.enumerated().map { i, name in
            !name.isEmpty && graph.constants[name] == nil && !variable.contains(name) && i < operands.count ? operands[i] : nil
        }
        if let cached = kernels[idx], cached.shapes == shapes, cached.parameters == parameters { return cached.kernel }
        guard let factory = Kernels.factory(for: n) else {
            throw .unsupportedOp(node: n.name, op: n.domain.isEmpty ? n.opType : "\(n.domain):\(n.opType)")
        }
        let consts = n.inputs.map { $0.isEmpty ? nil : graph.constants[$0] }
        let context = KernelContext(node: n, shapes: shapes, constants: consts, opset: opset,
                                    dtypes: operands.map { $0?.dtype }, parameters: parameters)
        let k = try factory(context)
        kernels[idx] = CachedKernel(shapes: shapes, parameters: parameters, kernel: k)
        return k
    }
}
