import ONNX

/// Read-only helpers over a `ModelGraph` shared by the weight-layer extraction and the
/// Lipschitz table: which tensors are constants, which depend on the perturbation, static
/// shapes, producers.
public struct GraphContext: Sendable {
    public let graph: ModelGraph
    public let dependence: Dependence
    /// Bounds over the input domain, when one was declared.
    public let bounds: [String: TensorBounds]?
    /// Quantized-op shapes and dynamic-quantization patterns (``QuantizedGraph``).
    public let quantized: QuantizedGraph

    public init(_ graph: ModelGraph, dependence: Dependence, bounds: [String: TensorBounds]? = nil) {
        self.graph = graph
        self.dependence = dependence
        self.bounds = bounds
        self.quantized = QuantizedGraph(graph, dependence: dependence)
    }

    /// The bounds of `name` over the domain (constants: their exact values), or nil.
    public func bounds(_ name: String?) -> TensorBounds? {
        guard let name else { return nil }
        if let t = graph.constants[name], t.dataType.isNumeric {
            let v = t.floats()
            return TensorBounds(shape: t.dims, lo: v, hi: v)
        }
        return bounds?[name]
    }

    public var path: String { graph.path }

    public func constant(_ name: String?) -> Tensor? { name.flatMap { graph.constants[$0] } }

    public func isConstant(_ name: String) -> Bool { graph.constants[name] != nil }

    /// Whether the tensor's values depend on the perturbation.
    public func isVariable(_ name: String) -> Bool { dependence.isDependent(name) }

    public func shape(_ name: String?) -> [Int]? { name.flatMap { graph.shapes[$0] ?? quantized.shapes[$0] } }

    public func dtype(_ name: String?) -> DataType? { name.flatMap { graph.dtypes[$0] } }

    public func producer(_ name: String) -> Node? { graph.producerNode(of: name) }

    /// Inputs that depend on the perturbation (non-empty), in order.
    /// (A control-flow node that could not be inlined also reads the names its subgraphs use.)
    public func variableInputs(_ n: Node) -> [String] {
        var seen = Set<String>()
        return (n.inputs + n.subgraphReferences).filter { !$0.isEmpty && dependence.isDependent($0) && seen.insert($0).inserted }
    }

    /// Whether every output of `n` was folded into a constant.
    public func isFolded(_ n: Node) -> Bool {
        !n.outputs.isEmpty && n.outputs.allSatisfy { $0.isEmpty || isConstant($0) }
    }

    /// A constant scalar operand's value (one element), if `name` is one.
    public func scalar(_ name: String?) -> Double? {
        guard let t = constant(name), t.count == 1, t.dataType.isNumeric else { return nil }
        return t.double(at: 0)
    }
}
