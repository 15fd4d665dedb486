/// Builds the one flat graph the analysis and the engine work on (DESIGN.md §1.7 "Control
/// flow"): the main graph's nodes in topological order with the nodes of `If`, `Loop` and
/// `Scan` subgraphs inlined, every node validated (``NodeValidator``), every constant folded
/// and every shape inferred as it is emitted.
///
/// - **Names.** A subgraph's own tensors and nodes get the prefix `<node>/<attribute>/`
///   (`If_3/then_branch/conv.weight`; unrolled iterations `Loop_2/iter4/…`, `Scan_1/step7/…`);
///   a name the subgraph does not define refers to the enclosing scopes, as the ONNX spec says.
/// - **If** whose condition folds to a constant: the taken branch only, its outputs copied to
///   the If's outputs by Identity nodes. Otherwise both branches, each node carrying a
///   ``BranchGuard`` (the engine runs only the taken one), and a merge node (op `If`, domain
///   `kappa`, inputs `[cond, then outputs…, else outputs…]`) whose gain rule is the larger of the
///   two branches' when the condition does not depend on the perturbation.
/// - **Loop** with a constant trip count and a condition that stays constant true: unrolled,
///   loop-carried values threaded through the iterations, scan outputs stacked (Unsqueeze +
///   Concat). **Scan** over an axis of known length: unrolled the same way, one step per
///   element (Gather picks the slice). Longer unrollings than ``maxUnrolledNodes``, computed trip
///   counts and early exits keep the node as it is (the analysis reports it with the reason).
public struct Flattener {
    /// Most nodes an unrolled Loop/Scan may add.
    static let maxUnrolledNodes = 200_000

    let path: String
    var folder: ConstantFolder
    var inference: ShapeInference
    var nodes: [Node] = []
    var producer: [String: Int] = [:]
    /// Every flat tensor name defined so far (graph inputs, initializers, node outputs).
    var defined: Set<String>
    var notes: [String] = []
    /// Constants made by the flattener (iteration numbers, indices, axes): unique names.
    private var synthetic = 0

    init(path: String, folder: ConstantFolder, inference: ShapeInference) {
        self.path = path
        self.folder = folder
        self.inference = inference
        self.defined = []
    }

    /// Name resolution for one graph: local names → flat names, then the enclosing scope.
    final class Scope {
        let parent: Scope?
        var local: [String: String] = [:]
        init(parent: Scope?) { self.parent = parent }
        func resolve(_ name: String) -> String? {
            if let n = local[name] { return n }
            return parent?.resolve(name)
        }
    }

    // MARK: One graph

    /// Emits the nodes of `g` under `prefix` and returns the flat names of its outputs.
    /// `bindings` map the graph's inputs (a subgraph's formal parameters) to flat tensors; the
    /// main graph binds its inputs to themselves.
    mutating func flatten(_ g: Graph, prefix: String, parent: Scope?, bindings: [String: String],
                          guards: [BranchGuard]) throws(ONNXError) -> [String] {
        let scope = Scope(parent: parent)
        let where_ = prefix.isEmpty ? "" : " in subgraph '\(String(prefix.dropLast()))'"
        // Inputs and initializers first (a main-graph input that is also an initializer, as
        // IR < 4 writes them, is the initializer).
        var initNames = Set<String>()
        for t in g.initializers {
            guard initNames.insert(t.name).inserted else { throw .duplicateName(path: path, name: t.name, kind: "initializer\(where_)") }
            let flat = try fresh(prefix + t.name)
            scope.local[t.name] = flat
            let renamed = flat == t.name ? t : t.renamed(flat)
            folder.add(renamed)
            inference.shapes[flat] = t.dims
            inference.dtypes[flat] = t.dataType
        }
        var inputNames = Set<String>()
        for i in g.inputs where !initNames.contains(i.name) {
            guard inputNames.insert(i.name).inserted else { throw .duplicateName(path: path, name: i.name, kind: "graph input\(where_)") }
            if let b = bindings[i.name] {
                scope.local[i.name] = b
            } else if parent == nil {
                defined.insert(i.name)
                scope.local[i.name] = i.name
            }
        }
        // Node outputs: unique, distinct from inputs and initializers.
        var localProducer: [String: Int] = [:]
        var nodeNames = Set<String>()
        for (idx, n) in g.nodes.enumerated() {
            if !nodeNames.insert(n.name).inserted, prefix.isEmpty {
                notes.append("node name '\(n.name)' is used by more than one node")
            }
            for o in n.outputs where !o.isEmpty {
                if localProducer[o] != nil || initNames.contains(o) || inputNames.contains(o) {
                    throw .duplicateName(path: path, name: o, kind: "tensor (node '\(n.name)' output\(where_))")
                }
                localProducer[o] = idx
            }
        }
        // Every input defined here or in an enclosing scope; Kahn's topological sort. Names a
        // nested subgraph reads from this graph order the control-flow node after their
        // producers (the nested graph checks the rest itself).
        var indegree = Array(repeating: 0, count: g.nodes.count)
        var dependents = Array(repeating: [Int](), count: g.nodes.count)
        for (idx, n) in g.nodes.enumerated() {
            var seen = Set<Int>()
            for i in n.inputs where !i.isEmpty {
                if let p = localProducer[i] {
                    if seen.insert(p).inserted {
                        indegree[idx] += 1
                        dependents[p].append(idx)
                    }
                } else if scope.resolve(i) == nil {
                    throw .undefinedInput(path: path, node: prefix + n.name, input: i)
                }
            }
            for i in Self.outerReferences(n) {
                if let p = localProducer[i], p != idx, seen.insert(p).inserted {
                    indegree[idx] += 1
                    dependents[p].append(idx)
                }
            }
        }
        var ready = (0..<g.nodes.count).filter { indegree[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(g.nodes.count)
        // A stack keeps file order for already-sorted graphs (pop smallest index first).
        while let n = ready.popLast() {
            order.append(n)
            for d in dependents[n].reversed() {
                indegree[d] -= 1
                if indegree[d] == 0 { ready.append(d) }
            }
        }
        guard order.count == g.nodes.count else {
            let stuck = (0..<g.nodes.count).filter { indegree[$0] > 0 }.map { prefix + g.nodes[$0].name }
            throw .cycle(path: path, nodes: stuck)
        }
        for idx in order {
            let n = g.nodes[idx]
            var flatOutputs: [String] = []
            for o in n.outputs {
                if o.isEmpty { flatOutputs.append(""); continue }
                let flat = try fresh(prefix + o)
                flatOutputs.append(flat)
            }
            var flat = n
            flat.name = prefix + n.name
            flat.inputs = n.inputs.map { $0.isEmpty ? "" : (scope.resolve($0) ?? $0) }
            flat.outputs = flatOutputs
            flat.guards = guards + n.guards
            let standard = n.domain.isEmpty || n.domain == "ai.onnx"
            if standard, ["If", "Loop", "Scan"].contains(n.opType),
               try expand(flat, original: n, scope: scope) {
                for (o, f) in zip(n.outputs, flatOutputs) where !o.isEmpty { scope.local[o] = f }
                continue
            }
            for (o, f) in zip(n.outputs, flatOutputs) where !o.isEmpty { scope.local[o] = f }
            try emit(flat)
        }
        var outs: [String] = []
        for o in g.outputs {
            guard let f = scope.resolve(o.name) else { throw .undefinedInput(path: path, node: prefix.isEmpty ? "graph output" : "\(prefix)output", input: o.name) }
            outs.append(f)
        }
        return outs
    }

    /// Outer-scope names a control-flow node's subgraphs read (they order the node after
    /// their producers).
    public static func outerReferences(_ n: Node) -> [String] {
        var out: [String] = []
        for (_, a) in n.attributes {
            switch a {
            case let .graph(g): out += freeNames(g)
            case let .graphs(gs): for g in gs { out += freeNames(g) }
            default: break
            }
        }
        return out
    }

    /// Names a graph reads without defining them (recursively).
    static func freeNames(_ g: Graph) -> [String] {
        var defined = Set(g.initializers.map(\.name) + g.inputs.map(\.name))
        for n in g.nodes { for o in n.outputs { defined.insert(o) } }
        var free: [String] = []
        for n in g.nodes {
            for i in n.inputs + outerReferences(n) where !i.isEmpty && !defined.contains(i) { free.append(i) }
        }
        return free
    }

    /// A flat name not used yet (a suffix `#k` on the rare collision).
    mutating func fresh(_ name: String) throws(ONNXError) -> String {
        guard defined.contains(name) else { defined.insert(name); return name }
        if !name.contains("/") { throw .duplicateName(path: path, name: name, kind: "tensor") }
        var k = 1
        while defined.contains("\(name)#\(k)") { k += 1 }
        defined.insert("\(name)#\(k)")
        return "\(name)#\(k)"
    }

    /// Validates, folds, infers and appends one flat node.
    mutating func emit(_ n: Node) throws(ONNXError) {
        let rank = n.input(0).flatMap { inference.shapes[$0]?.count ?? folder.constants[$0]?.dims.count ?? inference.declaredRank[$0] }
        let weightRank = n.input(1).flatMap { folder.constants[$0]?.dims.count }
        try NodeValidator.validate(n, rank: rank, weightRank: weightRank, path: path)
        try NodeValidator.validateOperands(n, constants: folder.constants, path: path)
        try folder.visit(n, shapes: inference.shapes)
        try inference.visit(n, constants: folder.constants)
        for o in n.outputs where !o.isEmpty { producer[o] = nodes.count }
        nodes.append(n)
        // Where shape inference stops although every input's shape is known (a diagnostic note).
        if n.inputs.allSatisfy({ $0.isEmpty || inference.shapes[$0] != nil }), !n.inputs.isEmpty,
           let o = n.outputs.first(where: { !$0.isEmpty }), inference.shapes[o] == nil, stopped.count < 3,
           !stopped.contains(n.opType) {
            stopped.append(n.opType)
            notes.append("shape inference stops at node '\(n.name)' (\(n.domain.isEmpty ? n.opType : n.domain + "." + n.opType)): its output shape is not known")
        }
    }

    /// Ops at which shape inference stopped (for the notes).
    private var stopped: [String] = []

    /// A Constant node emitting `tensor` under a fresh name; returns the name.
    mutating func constant(_ base: String, _ tensor: (String) -> Tensor, guards: [BranchGuard]) throws(ONNXError) -> String {
        synthetic += 1
        let name = try fresh(base)
        let t = tensor(name)
        var node = Node(name: name, opType: "Constant", inputs: [], outputs: [name], attributes: ["value": .tensor(t)])
        node.guards = guards
        try emit(node)
        return name
    }

    /// Emits a node made by the flattener.
    mutating func synthesize(_ op: String, name: String, inputs: [String], attributes: [String: Attribute] = [:],
                             guards: [BranchGuard]) throws(ONNXError) -> String {
        let out = try fresh(name)
        var node = Node(name: out, opType: op, inputs: inputs, outputs: [out], attributes: attributes)
        node.guards = guards
        try emit(node)
        return out
    }

    // MARK: Control flow

    /// Inlines a control-flow node; false when it stays as it is (not expandable).
    mutating func expand(_ n: Node, original: Node, scope: Scope) throws(ONNXError) -> Bool {
        switch n.opType {
        case "If": return try expandIf(n, scope: scope)
        case "Loop": return try expandLoop(n, scope: scope)
        default: return try expandScan(n, scope: scope)
        }
    }

    func subgraph(_ n: Node, _ key: String) throws(ONNXError) -> Graph {
        guard case let .graph(g)? = n.attributes[key] else {
            throw .badAttribute(path: path, node: n.name, attribute: key, reason: "missing or not a graph")
        }
        return g
    }

    mutating func expandIf(_ n: Node, scope: Scope) throws(ONNXError) -> Bool {
        let thenG = try subgraph(n, "then_branch"), elseG = try subgraph(n, "else_branch")
        guard let cond = n.input(0) else { throw .badNode(path: path, node: n.name, reason: "If without a condition") }
        let count = n.outputs.count
        guard thenG.outputs.count == count, elseG.outputs.count == count else {
            throw .badNode(path: path, node: n.name, reason: "the branches have \(thenG.outputs.count) and \(elseG.outputs.count) outputs, the If \(count)")
        }
        if let c = folder.constants[cond], c.count >= 1, c.dataType.isNumeric {
            let taken = c.double(at: 0) != 0
            let key = taken ? "then_branch" : "else_branch"
            let outs = try flatten(taken ? thenG : elseG, prefix: n.name + "/" + key + "/", parent: scope, bindings: [:], guards: n.guards)
            notes.append("If '\(n.name)': the condition is the constant \(taken); only its \(key) is analysed")
            for (k, o) in n.outputs.enumerated() where !o.isEmpty {
                try emit(Node(name: n.name + "/output\(k)", opType: "Identity", inputs: [outs[k]], outputs: [o]).guarded(n.guards))
            }
            return true
        }
        let thenOuts = try flatten(thenG, prefix: n.name + "/then_branch/", parent: scope, bindings: [:],
                                   guards: n.guards + [BranchGuard(condition: cond, branch: true)])
        let elseOuts = try flatten(elseG, prefix: n.name + "/else_branch/", parent: scope, bindings: [:],
                                   guards: n.guards + [BranchGuard(condition: cond, branch: false)])
        var merge = Node(name: n.name, opType: "If", domain: Self.domain, inputs: [cond] + thenOuts + elseOuts, outputs: n.outputs)
        merge.guards = n.guards
        try emit(merge)
        for (k, o) in n.outputs.enumerated() where !o.isEmpty {
            if let a = inference.shapes[thenOuts[k]], a == inference.shapes[elseOuts[k]] { inference.shapes[o] = a }
            if let t = inference.dtypes[thenOuts[k]] { inference.dtypes[o] = t }
        }
        notes.append("If '\(n.name)': the condition is computed at run time; both branches are analysed")
        return true
    }

    /// The domain of the merge node that joins the two branches of an If.
    static let domain = "kappa"

    mutating func expandLoop(_ n: Node, scope: Scope) throws(ONNXError) -> Bool {
        let body = try subgraph(n, "body")
        let carried = n.inputs.count - 2
        guard carried >= 0, body.inputs.count == carried + 2, body.outputs.count >= carried + 1 else {
            throw .badNode(path: path, node: n.name, reason: "Loop body has \(body.inputs.count) inputs and \(body.outputs.count) outputs for \(max(carried, 0)) loop-carried values")
        }
        guard let m = n.input(0).flatMap({ folder.constants[$0] }), m.count == 1, m.dataType.isNumeric else {
            notes.append("Loop '\(n.name)': the trip count is computed at run time; it is not unrolled")
            return false
        }
        let trips = Int(clamping: Int64(m.double(at: 0).rounded(.towardZero)))
        if let c = n.input(1), let ct = folder.constants[c], ct.count == 1, ct.double(at: 0) == 0 {
            // The loop never runs: its outputs are the initial values.
            guard n.outputs.count == carried else {
                throw .badNode(path: path, node: n.name, reason: "Loop that never runs has scan outputs of unknown shape")
            }
            for (k, o) in n.outputs.enumerated() where !o.isEmpty {
                try emit(Node(name: n.name + "/output\(k)", opType: "Identity", inputs: [n.inputs[2 + k]], outputs: [o]).guarded(n.guards))
            }
            return true
        }
        // The body's condition must stay true: its cond input passed through, or a constant.
        let condOut = body.outputs[0].name, condIn = body.inputs[1].name
        let constantTrue: Bool = {
            if condOut == condIn { return true }
            if let t = body.initializers.first(where: { $0.name == condOut }) { return t.count == 1 && t.double(at: 0) != 0 }
            guard let p = body.nodes.first(where: { $0.outputs.contains(condOut) }) else { return false }
            if p.opType == "Identity", p.inputs.first == condIn { return true }
            if p.opType == "Constant", let t = p.tensor("value") { return t.count == 1 && t.double(at: 0) != 0 }
            return false
        }()
        guard constantTrue else {
            notes.append("Loop '\(n.name)': its body computes the loop condition (an early exit); it is not unrolled")
            return false
        }
        guard trips >= 0, trips * max(body.nodes.count, 1) <= Self.maxUnrolledNodes else {
            notes.append("Loop '\(n.name)': \(trips) iterations of \(body.nodes.count) nodes are too many to unroll")
            return false
        }
        var state = Array(n.inputs.dropFirst(2))
        var scans: [[String]] = Array(repeating: [], count: body.outputs.count - 1 - carried)
        for i in 0..<trips {
            let p = "\(n.name)/iter\(i)/"
            let iter = try constant(p + "iteration_num", { Tensor(name: $0, dims: [], int64s: [Int64(i)]) }, guards: n.guards)
            let cond = try constant(p + "cond_in", { Tensor(name: $0, dims: [], bools: [true]) }, guards: n.guards)
            var bindings: [String: String] = [body.inputs[0].name: iter, body.inputs[1].name: cond]
            for (k, v) in body.inputs.dropFirst(2).enumerated() { bindings[v.name] = state[k] }
            let outs = try flatten(body, prefix: p, parent: scope, bindings: bindings, guards: n.guards)
            state = Array(outs[1...carried])
            for k in scans.indices { scans[k].append(outs[1 + carried + k]) }
        }
        for (k, o) in n.outputs.prefix(carried).enumerated() where !o.isEmpty {
            try emit(Node(name: n.name + "/output\(k)", opType: "Identity", inputs: [state[k]], outputs: [o]).guarded(n.guards))
        }
        for (k, o) in n.outputs.dropFirst(carried).enumerated() where !o.isEmpty {
            guard !scans[k].isEmpty else {
                throw .badNode(path: path, node: n.name, reason: "Loop with 0 iterations has empty scan outputs of unknown shape")
            }
            try stack(scans[k], axis: 0, into: o, name: n.name + "/scan\(k)", guards: n.guards)
        }
        notes.append("Loop '\(n.name)': unrolled \(trips) iteration\(trips == 1 ? "" : "s")")
        return true
    }

    mutating func expandScan(_ n: Node, scope: Scope) throws(ONNXError) -> Bool {
        let body = try subgraph(n, "body")
        guard let m = n.int("num_scan_inputs"), m >= 1, m <= n.inputs.count else {
            throw .badAttribute(path: path, node: n.name, attribute: "num_scan_inputs", reason: "missing or larger than the number of inputs")
        }
        let states = n.inputs.count - m
        let scanOutputs = body.outputs.count - states
        guard body.inputs.count == n.inputs.count, scanOutputs >= 0, n.outputs.count == body.outputs.count else {
            throw .badNode(path: path, node: n.name, reason: "Scan body's inputs/outputs do not match the node's")
        }
        let inAxes = n.ints("scan_input_axes") ?? Array(repeating: 0, count: m)
        let inDirs = n.ints("scan_input_directions") ?? Array(repeating: 0, count: m)
        let outAxes = n.ints("scan_output_axes") ?? Array(repeating: 0, count: scanOutputs)
        let outDirs = n.ints("scan_output_directions") ?? Array(repeating: 0, count: scanOutputs)
        guard inAxes.count == m, inDirs.count == m, outAxes.count == scanOutputs, outDirs.count == scanOutputs else {
            throw .badNode(path: path, node: n.name, reason: "Scan axes/directions do not match num_scan_inputs and the scan outputs")
        }
        var length: Int?
        var axes: [Int] = []
        for j in 0..<m {
            let x = n.inputs[states + j]
            guard let s = inference.shapes[x], let a = Shapes.axis(inAxes[j], rank: s.count) else {
                notes.append("Scan '\(n.name)': the scanned input's shape is not known; it is not unrolled (fix it with --input-shape)")
                return false
            }
            axes.append(a)
            if let l = length, l != s[a] { throw .badNode(path: path, node: n.name, reason: "scan inputs of different lengths \(l) and \(s[a])") }
            length = s[a]
        }
        let steps = length ?? 0
        guard steps >= 1, steps * max(body.nodes.count, 1) <= Self.maxUnrolledNodes else {
            notes.append("Scan '\(n.name)': \(steps) steps of \(body.nodes.count) nodes cannot be unrolled")
            return false
        }
        var state = Array(n.inputs.prefix(states))
        var outs: [[String]] = Array(repeating: [], count: scanOutputs)
        for t in 0..<steps {
            let p = "\(n.name)/step\(t)/"
            var bindings: [String: String] = [:]
            for (k, v) in body.inputs.prefix(states).enumerated() { bindings[v.name] = state[k] }
            for j in 0..<m {
                let index = inDirs[j] == 1 ? steps - 1 - t : t
                let idx = try constant(p + "index\(j)", { Tensor(name: $0, dims: [], int64s: [Int64(index)]) }, guards: n.guards)
                let slice = try synthesize("Gather", name: p + "slice\(j)", inputs: [n.inputs[states + j], idx],
                                           attributes: ["axis": .int(axes[j])], guards: n.guards)
                bindings[body.inputs[states + j].name] = slice
            }
            let results = try flatten(body, prefix: p, parent: scope, bindings: bindings, guards: n.guards)
            state = Array(results.prefix(states))
            for k in 0..<scanOutputs { outs[k].append(results[states + k]) }
        }
        for (k, o) in n.outputs.prefix(states).enumerated() where !o.isEmpty {
            try emit(Node(name: n.name + "/output\(k)", opType: "Identity", inputs: [state[k]], outputs: [o]).guarded(n.guards))
        }
        for k in 0..<scanOutputs {
            let o = n.outputs[states + k]
            guard !o.isEmpty else { continue }
            let parts = outDirs[k] == 1 ? Array(outs[k].reversed()) : outs[k]
            // The stacked axis counts in the output's rank (one more than a step's).
            let rank = (inference.shapes[parts[0]]?.count ?? 0) + 1
            let axis = outAxes[k] < 0 ? outAxes[k] + rank : outAxes[k]
            try stack(parts, axis: axis, into: o, name: n.name + "/scan\(k)", guards: n.guards)
        }
        notes.append("Scan '\(n.name)': unrolled \(steps) step\(steps == 1 ? "" : "s")")
        return true
    }

    /// Stacks `parts` along a new axis: Unsqueeze each, Concat.
    mutating func stack(_ parts: [String], axis: Int, into out: String, name: String, guards: [BranchGuard]) throws(ONNXError) {
        var pieces: [String] = []
        for (i, p) in parts.enumerated() {
            pieces.append(try synthesize("Unsqueeze", name: "\(name)/unsqueeze\(i)", inputs: [p], attributes: ["axes": .ints([axis])], guards: guards))
        }
        var concat = Node(name: name, opType: "Concat", inputs: pieces, outputs: [out], attributes: ["axis": .int(axis)])
        concat.guards = guards
        try emit(concat)
    }
}

extension Node {
    /// The node with `guards` set.
    func guarded(_ guards: [BranchGuard]) -> Node {
        var n = self
        n.guards = guards
        return n
    }
}
