import Dispatch
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
    /// The tensor the engine computes (the first of `outputs`).
    public let output: String
    /// Every tensor the engine computes (`kappa run` evaluates all graph outputs at once).
    public let outputs: [String]
    /// Tensors a reverse pass reads (inputs and outputs of the nodes that depend on the
    /// perturbed tensor): kept in the trace; every other value is freed after its last
    /// consumer in the forward pass.
    let retained: Set<String>
    /// Plan position of each tensor's last consumer.
    let lastUse: [String: Int]
    /// Per-op wall time of the forward passes and reverse passes, when `profiling` is set.
    public var profiling = false
    public private(set) var profile: [String: (calls: Int, seconds: Double)] = [:]
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
    public convenience init(graph: ModelGraph, output: String? = nil, input: String? = nil) throws(ReferenceError) {
        guard let out = output ?? graph.graph.outputs.first?.name else {
            throw .badOutput(name: "?", reason: "the model declares no output")
        }
        try self.init(graph: graph, outputs: [out], input: input)
    }

    /// An engine computing several tensors in one pass (their cones joined).
    public init(graph: ModelGraph, outputs: [String], input: String? = nil, requireDependence: Bool = true) throws(ReferenceError) {
        self.graph = graph
        guard let first = input ?? graph.inputs.first?.name else { throw .badFeed(reason: "the model has no data input") }
        self.input = first
        guard let out = outputs.first else { throw .badOutput(name: "?", reason: "no output requested") }
        self.output = out
        self.outputs = outputs
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
        for o in outputs where !variable.contains(o) {
            let known = graph.producer[o] != nil || graph.constants[o] != nil || graph.inputs.contains { $0.name == o }
            guard known else { throw .badOutput(name: o, reason: "no node or input of the model produces it") }
            if requireDependence { throw .badOutput(name: o, reason: "it does not depend on '\(first)'") }
        }
        self.variable = variable
        // Nodes the outputs need: producers of every non-constant tensor on the way back,
        // stopping at the perturbed tensor (it is fed).
        var needed = Set<Int>()
        var stack = outputs
        var seen = Set<String>()
        while let t = stack.popLast() {
            guard seen.insert(t).inserted, t != first, graph.constants[t] == nil, let p = graph.producer[t] else { continue }
            needed.insert(p)
            stack.append(contentsOf: nodes[p].inputs.filter { !$0.isEmpty })
        }
        plan = graph.order.filter { needed.contains($0) }
        var retained = Set(outputs + [first])
        var lastUse: [String: Int] = [:]
        for (pos, idx) in plan.enumerated() {
            let n = nodes[idx]
            for i in n.inputs where !i.isEmpty { lastUse[i] = pos }
            for g in n.guards { lastUse[g.condition] = pos }
            if n.outputs.contains(where: { variable.contains($0) }) {
                for t in n.inputs + n.outputs where !t.isEmpty { retained.insert(t) }
            }
        }
        self.retained = retained
        self.lastUse = lastUse

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
        for o in outputs { used.insert(o) }
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
    /// Values no reverse pass reads are freed after their last consumer (`keepAll` keeps every
    /// value, for callers that inspect intermediate tensors).
    public func forward(_ feeds: [String: Value], keepAll: Bool = false) throws(ReferenceError) -> Trace {
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
        for (pos, idx) in plan.enumerated() {
            let n = nodes[idx]
            defer {
                if !keepAll {
                    for i in n.inputs where !i.isEmpty && lastUse[i] == pos && !retained.contains(i) { values.removeValue(forKey: i) }
                }
            }
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
            let started = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            let outs = try kernel.forward(operands)
            if profiling { record(n, started) }
            for (o, v) in zip(n.outputs, outs) where !o.isEmpty { values[o] = v }
        }
        return Trace(values: values, output: output)
    }

    /// The vector-Jacobian product: given `rows` cotangents of the output, back to back
    /// (`rows × output.count` floats), returns `rows` cotangents of the perturbed tensor.
    public func vjp(_ trace: Trace, cotangents: [Float], rows: Int) throws(ReferenceError) -> [Float] {
        var copy = trace
        return try vjp(releasing: &copy, cotangents: cotangents, rows: rows, release: false)
    }

    /// ``vjp(_:cotangents:rows:)`` that frees each activation of `trace` once the reverse pass
    /// is past its last use (a node's outputs, after the node's own backward): the reverse pass
    /// then holds the cotangents of the widest cut and the activations before it, not the
    /// whole forward pass too. The output and the perturbed tensor are kept.
    public func vjp(releasing trace: inout Trace, cotangents: [Float], rows: Int, release: Bool = true) throws(ReferenceError) -> [Float] {
        let outCount = trace.result.count
        guard rows >= 1, cotangents.count == rows * outCount else {
            throw .badFeed(reason: "\(cotangents.count) cotangent values for \(rows) rows of \(outCount)")
        }
        var grads: [String: [Float]] = [output: cotangents]
        let nodes = graph.graph.nodes
        for idx in plan.reversed() {
            let n = nodes[idx]
            // Every reader of n's outputs is later in the plan (already reversed), n's own backward
            // is the last to read them: free them when it is done.
            defer {
                if release { for t in n.outputs where !t.isEmpty && t != output && t != input { trace.values.removeValue(forKey: t) } }
            }
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
            let started = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            let gins = try kernel.backward(BackwardArgs(inputs: operands, outputs: outs, grads: gouts, rows: rows, wants: wants))
            if profiling { record(n, started, reverse: true) }
            for (i, name) in n.inputs.enumerated() where i < gins.count && wants[i] {
                guard let g = gins[i] else { continue }
                if grads[name] == nil { grads[name] = g } else { accumulate(&grads[name, default: []], g) }
            }
        }
        let inCount = trace.values[input]?.count ?? 0
        return grads[input] ?? .zeros(rows * inCount)
    }

    private func record(_ n: Node, _ started: UInt64, reverse: Bool = false) {
        let key = (n.domain.isEmpty || n.domain == "ai.onnx" ? n.opType : "\(n.domain).\(n.opType)") + (reverse ? " (reverse)" : "")
        let dt = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        let old = profile[key] ?? (0, 0)
        profile[key] = (old.calls + 1, old.seconds + dt)
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
