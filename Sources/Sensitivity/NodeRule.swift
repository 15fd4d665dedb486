import ONNX

/// How one node maps the gain bounds of its inputs to its outputs (DESIGN.md §1.3):
/// every output gets `combine` over `terms` of gain × g(input). A node without terms
/// (Shape) has outputs that do not depend on the input's values (g = 0).
public struct NodeRule: Sendable {
    public enum Combine: Sendable { case sum, rootSumSquare }
    public enum Status: String, Sendable, Codable { case ok, unbounded, unsupported }

    public struct Term: Sendable {
        public var input: String
        public var gain: ModePair
        public init(_ input: String, _ gain: ModePair) { self.input = input; self.gain = gain }
    }

    public var terms: [Term]
    public var combine: Combine
    public var status: Status
    /// Why a node is unbounded/unsupported, or how its constant was derived (e.g. "√c, c = 4").
    public var reason: String?
    /// Index into the weight layers when the node is one.
    public var weightLayer: Int?

    public init(terms: [Term], combine: Combine = .sum, status: Status = .ok, reason: String? = nil, weightLayer: Int? = nil) {
        self.terms = terms
        self.combine = combine
        self.status = status
        self.reason = reason
        self.weightLayer = weightLayer
    }

    /// A one-input layer: g(out) = L · g(x).
    public static func lipschitz(_ x: String, _ l: Double, _ reason: String? = nil) -> NodeRule {
        NodeRule(terms: [Term(x, ModePair(l))], reason: reason)
    }

    /// No finite bound: every variable input feeds the outputs with an infinite gain.
    public static func unbounded(_ inputs: [String], _ reason: String) -> NodeRule {
        NodeRule(terms: inputs.map { Term($0, .unbounded) }, status: .unbounded, reason: reason)
    }

    public static func unsupported(_ inputs: [String], _ reason: String) -> NodeRule {
        NodeRule(terms: inputs.map { Term($0, .unbounded) }, status: .unsupported, reason: reason)
    }

    /// The node's Lipschitz constant as one number per mode: the largest term gain.
    public var lipschitz: ModePair {
        terms.reduce(ModePair.zero) { ModePair(matrix: max($0.matrix, $1.gain.matrix), sound: max($0.sound, $1.gain.sound)) }
    }
}
