import ONNX

/// Read-only helpers over a `ModelGraph` shared by the weight-layer extraction and the
/// Lipschitz table: which tensors are constants, which depend on the perturbation, static
/// shapes, producers.
public struct GraphContext: Sendable {
    public let graph: ModelGraph
    public let dependence: Dependence
    /// Quantized-op shapes and dynamic-quantization patterns (``QuantizedGraph``).
    public let quantized: QuantizedGraph

    public init(_ graph: ModelGraph, dependence: Dependence) {
        self.graph = graph
        self.dependence = dependence
        self.quantized = QuantizedGraph(graph, dependence: dependence)
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
    public func variableInputs(_ n: Node) -> [String] {
        n.inputs.filter { !$0.isEmpty && dependence.isDependent($0) }
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
