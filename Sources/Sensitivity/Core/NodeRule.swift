import ONNX

/// Whether a node has a finite Lipschitz bound: `ok`; `unbounded` (a recognised op without a
/// finite global bound for these operands — a product of two variables, a discontinuity, a
/// normalisation near constant inputs); `unsupported` (an op outside Kappa's table).
public enum NodeStatus: String, Sendable, Codable, CaseIterable {
    case ok, unbounded, unsupported
}

/// How one node maps the gain bounds of its inputs to its outputs (DESIGN.md §1.3):
/// every output gets `combine` over `terms` of gain × g(input). A node without terms
/// (Shape) has outputs that do not depend on the input's values (g = 0).
public struct NodeRule: Sendable {
    /// How the terms of an output combine: `sum` (g = Σ gain·g_in), `rootSumSquare` (Concat's
    /// disjoint parts), `max` (the larger of alternatives: the branches of an If whose condition
    /// does not depend on the perturbation — the output is one branch's function everywhere).
    public enum Combine: Sendable { case sum, rootSumSquare, max }
    public typealias Status = NodeStatus

    public struct Term: Sendable {
        public var input: String
        public var gain: ModePair
        public init(_ input: String, _ gain: ModePair) { self.input = input; self.gain = gain }
    }

    public var terms: [Term]
    public var combine: Combine
    public var status: NodeStatus
    /// Why a node is unbounded/unsupported, or how its constant was derived (e.g. "√c, c = 4").
    public var reason: String?
    /// An unbounded rule that an input domain (`--input-range`) would make finite: a product of
    /// two variables, a division by a variable, a normalisation, a function whose derivative is
    /// unbounded or has a pole (DESIGN.md §1.8). Findings report it as KAPPA006.
    public var domainWouldBound = false
    /// The node's output is an Eq. 8 rounding point (a quantizer: QuantizeLinear→DequantizeLinear,
    /// Floor/Ceil/Round, Cast to an integer type).
    public var roundingPoint = false
    /// Per output (by position), the terms when outputs differ (LSTM's Y, Y_h, Y_c; Split);
    /// nil: every output gets `terms`.
    public var outputTerms: [[Term]]?

    public init(terms: [Term], combine: Combine = .sum, status: NodeStatus = .ok, reason: String? = nil) {
        self.terms = terms
        self.combine = combine
        self.status = status
        self.reason = reason
    }

    /// A one-input layer: g(out) = L · g(x).
    public static func lipschitz(_ x: String, _ l: Double, _ reason: String? = nil) -> NodeRule {
        NodeRule(terms: [Term(x, ModePair(l))], reason: reason)
    }

    /// No finite bound: every variable input feeds the outputs with an infinite gain.
    public static func unbounded(_ inputs: [String], _ reason: String) -> NodeRule {
        NodeRule(terms: inputs.map { Term($0, .unbounded) }, status: .unbounded, reason: reason)
    }

    /// Unbounded without a domain, finite on a bounded one (see `domainWouldBound`).
    public static func needsDomain(_ inputs: [String], _ reason: String) -> NodeRule {
        var r = NodeRule.unbounded(inputs, reason)
        r.domainWouldBound = true
        return r
    }

    /// A discontinuous map of the input (a comparison, an index, a switch): no Lipschitz bound.
    public static func discontinuity(_ inputs: [String], _ reason: String) -> NodeRule {
        .unbounded(inputs, "a discontinuity: \(reason)")
    }

    public static func unsupported(_ inputs: [String], _ reason: String) -> NodeRule {
        NodeRule(terms: inputs.map { Term($0, .unbounded) }, status: .unsupported, reason: reason)
    }

    /// Outputs that do not depend on the input's values (g = 0).
    public static let independent = NodeRule(terms: [])

    /// The node's Lipschitz constant as one number per column: the largest term gain.
    public var lipschitz: ModePair {
        let all = terms + (outputTerms ?? []).flatMap { $0 }
        return all.reduce(ModePair.zero) { ModePair.max($0, $1.gain) }
    }

    /// The terms feeding output `i`.
    func terms(forOutput i: Int) -> [Term] {
        guard let per = outputTerms else { return terms }
        return i < per.count ? per[i] : []
    }
}
