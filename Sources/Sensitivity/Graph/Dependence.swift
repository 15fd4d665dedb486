import ONNX

/// Where the perturbation enters the network (DESIGN.md §1.7).
public struct PerturbationEntry: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A floating-point graph input.
        case graphInput = "graph_input"
        /// The output of an embedding lookup: Gather from a constant float table by indices
        /// that come from the integer inputs (token ids, byte values).
        case embedding
        /// Where integer input data first becomes floating point (Cast, DequantizeLinear).
        case firstFloat = "first_float"
        /// Named with `--perturb`.
        case requested
    }
    public var tensor: String
    public var kind: Kind
    /// The node that produces the tensor (nil for a graph input).
    public var node: String?

    public var description: String {
        switch kind {
        case .graphInput: return "\(tensor) (graph input)"
        case .embedding: return "\(tensor) (embedding lookup \(node ?? "?"))"
        case .firstFloat: return "\(tensor) (first floating-point tensor, made by \(node ?? "?"))"
        case .requested: return "\(tensor) (--perturb)"
        }
    }
}

/// Which tensors depend on the perturbation (DESIGN.md §1.7): the forward closure of the
/// entries over the graph, except that `Shape` and `Size` read only a tensor's shape.
/// Everything else — constants, integer index inputs (token ids, masks, a sample rate), and
/// whatever is computed from them alone — is *input-independent*: gain 0, no finding,
/// whatever op made it.
///
/// Entries, by default: the floating-point graph inputs; when there are none (a text or
/// byte model), the outputs of embedding lookups (Gather from a constant float table);
/// when there are none either, the tensors where integer input data first becomes floating
/// point (no floating-point tensor computed from the inputs on the way; those computed only
/// from inputs named like a mask are left out when there are others). `perturb` (the CLI's `--perturb NAME`) names any other float tensors instead.
public struct Dependence: Sendable {
    public let entries: [PerturbationEntry]
    /// Tensors whose values depend on the entries (the entries included).
    public let dependent: Set<String>

    public func isDependent(_ t: String) -> Bool { dependent.contains(t) }

    static let shapeOnly: Set<String> = ["Shape", "Size"]

    public init(_ graph: ModelGraph, perturb: [String]? = nil) throws(SensitivityError) {
        let nodes = graph.graph.nodes
        let path = graph.path
        func isFloat(_ t: String) -> Bool { graph.dtypes[t].map(\.isFloatingPoint) ?? true }
        var entries: [PerturbationEntry] = []
        if let perturb, !perturb.isEmpty {
            for t in perturb {
                let isInput = graph.inputs.contains { $0.name == t }
                guard isInput || graph.producer[t] != nil else { throw .badPerturb(path: path, name: t, reason: "no graph input or node output has that name") }
                guard graph.constants[t] == nil else { throw .badPerturb(path: path, name: t, reason: "it is a constant (a weight), not data") }
                guard let dt = graph.dtypes[t], dt.isFloatingPoint else {
                    throw .badPerturb(path: path, name: t, reason: "it is \(graph.dtypes[t].map { "a \($0) tensor" } ?? "of unknown type"); only floating-point tensors can be perturbed")
                }
                entries.append(PerturbationEntry(tensor: t, kind: .requested, node: graph.producerNode(of: t)?.name))
            }
        } else {
            entries = graph.inputs.filter { graph.constants[$0.name] == nil && isFloat($0.name) }
                .map { PerturbationEntry(tensor: $0.name, kind: .graphInput, node: nil) }
            if entries.isEmpty {
                entries = Self.derivedEntries(graph)
            }
        }
        var dependent = Set(entries.map(\.tensor))
        let entryNames = dependent
        for idx in graph.order {
            let n = nodes[idx]
            if Self.shapeOnly.contains(n.opType) { continue }
            guard (n.inputs + n.subgraphReferences).contains(where: { !$0.isEmpty && dependent.contains($0) }) else { continue }
            for o in n.outputs where !o.isEmpty && graph.constants[o] == nil {
                dependent.insert(o)
            }
        }
        // A requested entry computed from another one would be perturbed twice.
        if perturb != nil {
            for e in entries where Self.reaches(graph, from: entryNames.subtracting([e.tensor]), to: e.tensor) {
                throw .badPerturb(path: path, name: e.tensor, reason: "it is computed from another perturbed tensor; name independent tensors")
            }
        }
        self.entries = entries
        self.dependent = dependent
    }

    /// Entries of a model without floating-point inputs: embedding lookups, else the first
    /// floating-point tensors made from the integer inputs.
    static func derivedEntries(_ graph: ModelGraph) -> [PerturbationEntry] {
        let nodes = graph.graph.nodes
        let inputNames = Set(graph.inputs.map(\.name).filter { graph.constants[$0] == nil })
        guard !inputNames.isEmpty else { return [] }
        // Tensors computed from the (integer) inputs.
        var fromInputs = inputNames
        for idx in graph.order {
            let n = nodes[idx]
            if shapeOnly.contains(n.opType) { continue }
            if n.inputs.contains(where: { fromInputs.contains($0) }) {
                for o in n.outputs where !o.isEmpty && graph.constants[o] == nil { fromInputs.insert(o) }
            }
        }
        func isFloat(_ t: String) -> Bool { graph.dtypes[t]?.isFloatingPoint ?? false }
        // Which inputs each tensor is computed from, and whether a floating-point tensor made
        // from the inputs lies on the way (then it is not where the data *first* becomes float).
        var origins: [String: Set<String>] = [:]
        for i in inputNames { origins[i] = [i] }
        var floatAncestor = Set<String>()
        var embeddings: [PerturbationEntry] = []
        var firsts: [(entry: PerturbationEntry, origins: Set<String>)] = []
        for idx in graph.order {
            let n = nodes[idx]
            if shapeOnly.contains(n.opType) { continue }
            let variable = n.inputs.filter { !$0.isEmpty && fromInputs.contains($0) }
            guard !variable.isEmpty else { continue }
            let from = variable.reduce(into: Set<String>()) { $0.formUnion(origins[$1] ?? []) }
            let tainted = variable.contains { floatAncestor.contains($0) || isFloat($0) }
            for o in n.outputs where !o.isEmpty && fromInputs.contains(o) {
                origins[o] = from
                if tainted { floatAncestor.insert(o) }
            }
            guard !tainted, let out = n.outputs.first, fromInputs.contains(out), isFloat(out) else { continue }
            if n.opType == "Gather", let table = n.input(0), let t = graph.constants[table], t.dataType.isFloatingPoint {
                embeddings.append(PerturbationEntry(tensor: out, kind: .embedding, node: n.name))
            } else {
                firsts.append((PerturbationEntry(tensor: out, kind: .firstFloat, node: n.name), from))
            }
        }
        // An entry that reaches no graph output (read only by Shape) is not where data flows.
        let outputs = Set(graph.graph.outputs.map(\.name))
        func reachesOutput(_ t: String) -> Bool {
            var seen = Set<String>()
            var stack = [t]
            while let x = stack.popLast() {
                guard seen.insert(x).inserted else { continue }
                if outputs.contains(x) { return true }
                for c in graph.consumers[x] ?? [] where !shapeOnly.contains(nodes[c].opType) {
                    stack.append(contentsOf: nodes[c].outputs.filter { !$0.isEmpty })
                }
            }
            return false
        }
        let liveEmbeddings = embeddings.filter { reachesOutput($0.tensor) }
        if !liveEmbeddings.isEmpty { return liveEmbeddings }
        if !embeddings.isEmpty && firsts.isEmpty { return embeddings }
        // A mask made float (attention_mask → Cast) is not data to perturb when other data is.
        let isMask = { (o: Set<String>) in !o.isEmpty && o.allSatisfy { $0.lowercased().contains("mask") } }
        let live = firsts.filter { reachesOutput($0.entry.tensor) }
        let candidates = live.isEmpty ? firsts : live
        let data = candidates.filter { !isMask($0.origins) }
        return (data.isEmpty ? candidates : data).map(\.entry)
    }

    static func reaches(_ graph: ModelGraph, from sources: Set<String>, to target: String) -> Bool {
        guard !sources.isEmpty else { return false }
        if sources.contains(target) { return true }
        var stack = [target]
        var seen = Set<String>()
        while let t = stack.popLast() {
            guard seen.insert(t).inserted, let p = graph.producerNode(of: t) else { continue }
            for i in p.inputs where !i.isEmpty {
                if sources.contains(i) { return true }
                stack.append(i)
            }
        }
        return false
    }
}
