import Foundation
import ONNX
import Sensitivity

/// A value in both columns: `matrix` (the paper's σ_matrix estimator) and `operator` (σ_op
/// upper bounds: sound). Null when unbounded.
public struct ModeValues: Codable, Sendable, Equatable {
    public var matrix: JSONNumber
    public var `operator`: JSONNumber

    public init(_ p: ModePair) {
        matrix = JSONNumber(p.matrix)
        self.operator = JSONNumber(p.operator)
    }
}

/// `kappa analyze`: per-layer norms and the network bounds. JSON keys as DESIGN.md §3.1.
public struct AnalyzeReport: Codable, Sendable {
    public struct SigmaOp: Codable, Sendable, Equatable {
        public var lower: JSONNumber
        public var upper: JSONNumber
    }

    public struct Layer: Codable, Sendable, Equatable {
        public var index: Int
        public var node: String
        public var op: String
        public var weight: String?
        public var weightShape: [Int]?
        public var sigmaMatrix: JSONNumber
        public var sigmaOp: SigmaOp?
        public var frobenius: JSONNumber
        public var lipschitz: ModeValues
        public var iterations: Int?
        public var method: String?
        public var achievedTolerance: JSONNumber
        public var operatorIterations: Int?
        public var gainFromInput: ModeValues
        public var gainToOutput: ModeValues
        public var share: ModeValues?
        public var status: NodeStatus
        public var reason: String?
        /// L of the layer after folding and after the optimised rescaling (DESIGN.md §1.9);
        /// null when the tightening was not computed.
        public var lipschitzFolded: ModeValues?
        public var lipschitzRescaled: ModeValues?

        enum CodingKeys: String, CodingKey {
            case index, node, op, weight, frobenius, lipschitz, iterations, method, share, status, reason
            case lipschitzFolded = "lipschitz_folded"
            case lipschitzRescaled = "lipschitz_rescaled"
            case weightShape = "weight_shape"
            case sigmaMatrix = "sigma_matrix"
            case sigmaOp = "sigma_op"
            case achievedTolerance = "achieved_tolerance"
            case operatorIterations = "operator_iterations"
            case gainFromInput = "gain_from_input"
            case gainToOutput = "gain_to_output"
        }

        // Every key is written (null when absent) so that consumers see one shape.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(node, forKey: .node)
            try c.encode(op, forKey: .op)
            try c.encode(weight, forKey: .weight)
            try c.encode(weightShape, forKey: .weightShape)
            try c.encode(sigmaMatrix, forKey: .sigmaMatrix)
            try c.encode(sigmaOp, forKey: .sigmaOp)
            try c.encode(frobenius, forKey: .frobenius)
            try c.encode(lipschitz, forKey: .lipschitz)
            try c.encode(iterations, forKey: .iterations)
            try c.encode(method, forKey: .method)
            try c.encode(achievedTolerance, forKey: .achievedTolerance)
            try c.encode(operatorIterations, forKey: .operatorIterations)
            try c.encode(gainFromInput, forKey: .gainFromInput)
            try c.encode(gainToOutput, forKey: .gainToOutput)
            try c.encode(share, forKey: .share)
            try c.encode(status, forKey: .status)
            try c.encode(reason, forKey: .reason)
            try c.encode(lipschitzFolded, forKey: .lipschitzFolded)
            try c.encode(lipschitzRescaled, forKey: .lipschitzRescaled)
        }
    }

    /// The sound Eq. 7 bound before and after each tightening (DESIGN.md §1.9): `plain` (as
    /// `network.eq7`), `folded` (BatchNorm and constant scalings folded into the adjacent
    /// linear layers), `rescaled` (the best positive diagonal rescaling found); `factor` =
    /// plain / value per column; `most_gained` = the layers whose L dropped most.
    public struct Tightening: Codable, Sendable, Equatable {
        public struct Step: Codable, Sendable, Equatable {
            public var eq7: ModeValues
            public var factor: ModeValues
            public var precision: PrecisionTable.Pair
        }
        public struct Gain: Codable, Sendable, Equatable {
            public var node: String
            public var before: JSONNumber
            public var after: JSONNumber
            public var factor: JSONNumber
        }
        public var plain: ModeValues
        public var folded: Step
        public var rescaled: Step
        public var best: String
        public var freeScalings: Int
        public var foldedChannels: Int
        public var evaluations: Int
        public var mostGained: [Gain]

        enum CodingKeys: String, CodingKey {
            case plain, folded, rescaled, best, evaluations
            case freeScalings = "free_scalings"
            case foldedChannels = "folded_channels"
            case mostGained = "most_gained"
        }

        init(_ t: RescalingResult, plain p: ModePair, nodes: [NodeAnalysis]) {
            func step(_ v: ModePair) -> Step {
                Step(eq7: ModeValues(v), factor: ModeValues(ModePair(matrix: p.matrix / v.matrix, operator: p.operator / v.operator)),
                     precision: .init(matrix: Precision(kappa: v.matrix), operator: Precision(kappa: v.operator)))
            }
            plain = ModeValues(p)
            folded = step(t.folded)
            rescaled = step(t.rescaled)
            best = t.best
            freeScalings = t.freeScalings
            foldedChannels = t.foldedChannels
            evaluations = t.evaluations
            let gains = nodes.compactMap { n -> Gain? in
                guard let after = n.lipschitzRescaled?.operator, after > 0, after.isFinite, n.lipschitz.operator.isFinite else { return nil }
                return Gain(node: n.node, before: JSONNumber(n.lipschitz.operator), after: JSONNumber(after),
                            factor: JSONNumber(n.lipschitz.operator / after))
            }
            mostGained = Array(gains.filter { ($0.factor.value ?? 0) > 1 + 1e-9 }
                .sorted { ($0.factor.value ?? 0) > ($1.factor.value ?? 0) }.prefix(5))
        }
    }

    public struct PrecisionTable: Codable, Sendable, Equatable {
        public struct Pair: Codable, Sendable, Equatable {
            public var matrix: Precision
            public var `operator`: Precision
        }
        public var eq7: Pair
        public var eq8: Pair
    }

    public struct Network: Codable, Sendable, Equatable {
        public var output: String
        /// How the output was chosen (``AnalysedOutput/how``).
        public var outputChoice: String
        /// Where the perturbation enters.
        public var perturbed: [PerturbationEntry]
        public var eq7: ModeValues
        public var eq8: ModeValues
        public var roundingPoints: Int
        public var precision: PrecisionTable
        /// Eq. 7 before and after folding and rescaling; null when not computed.
        public var tightening: Tightening?

        enum CodingKeys: String, CodingKey {
            case output, eq7, eq8, precision, perturbed, tightening
            case outputChoice = "output_choice"
            case roundingPoints = "rounding_points"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(output, forKey: .output)
            try c.encode(outputChoice, forKey: .outputChoice)
            try c.encode(perturbed, forKey: .perturbed)
            try c.encode(eq7, forKey: .eq7)
            try c.encode(eq8, forKey: .eq8)
            try c.encode(roundingPoints, forKey: .roundingPoints)
            try c.encode(precision, forKey: .precision)
            try c.encode(tightening, forKey: .tightening)  // null, not absent, when not computed
        }
    }

    /// The bracket [ℓ, L] on an input domain (`--input-range`); null without one.
    public struct BracketInfo: Codable, Sendable, Equatable {
        public struct Lower: Codable, Sendable, Equatable {
            public var value: JSONNumber
            public var point: String
            public var tensor: String
            public var reversePasses: Int
            public var forwardPasses: Int
            public var seconds: Double
            enum CodingKeys: String, CodingKey {
                case value, point, tensor, seconds
                case reversePasses = "reverse_passes"
                case forwardPasses = "forward_passes"
            }
        }
        public struct Ends: Codable, Sendable, Equatable {
            public var lower: Precision?
            public var upper: Precision
        }
        public var domain: [String]
        public var empirical: Bool
        public var upper: JSONNumber
        public var lower: Lower?
        public var widthOrders: JSONNumber
        public var precision: Ends

        enum CodingKeys: String, CodingKey {
            case domain, empirical, upper, lower, precision
            case widthOrders = "width_orders"
        }

        public init(_ b: Bracket) {
            domain = b.domain
            empirical = b.empirical
            upper = JSONNumber(b.upper)
            lower = b.lower.map { Lower(value: JSONNumber($0.value), point: $0.point, tensor: $0.tensor, reversePasses: $0.reversePasses,
                                        forwardPasses: $0.forwardPasses, seconds: ($0.seconds * 100).rounded() / 100) }
            widthOrders = JSONNumber(b.widthOrders)
            precision = Ends(lower: b.lower.map { Precision(kappa: $0.value) }, upper: Precision(kappa: b.upper))
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(domain, forKey: .domain)
            try c.encode(empirical, forKey: .empirical)
            try c.encode(upper, forKey: .upper)
            try c.encode(lower, forKey: .lower)
            try c.encode(widthOrders, forKey: .widthOrders)
            try c.encode(precision, forKey: .precision)
        }
    }

    public var schemaVersion = reportSchemaVersion
    public var tool = ToolInfo()
    public var model: ModelInfo
    /// "matrix" or "operator": how σ_op was obtained (see `--norm`).
    public var norm: String
    public var layers: [Layer]
    public var network: Network
    public var bracket: BracketInfo?
    public var notes: [String]
    public var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case tool, model, norm, layers, network, notes, findings, bracket
        case schemaVersion = "schema_version"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schemaVersion, forKey: .schemaVersion)
        try c.encode(tool, forKey: .tool)
        try c.encode(model, forKey: .model)
        try c.encode(norm, forKey: .norm)
        try c.encode(layers, forKey: .layers)
        try c.encode(network, forKey: .network)
        try c.encode(bracket, forKey: .bracket)  // null, not absent, without a domain
        try c.encode(notes, forKey: .notes)
        try c.encode(findings, forKey: .findings)
    }

    public init(graph: ModelGraph, result: AnalysisResult) {
        model = ModelInfo(graph.model)
        norm = result.norm.rawValue
        layers = result.nodes.map { r in
            let n = r.weight?.norms
            return Layer(index: r.index, node: r.node, op: r.op, weight: r.weight?.weight, weightShape: r.weight?.shape,
                         sigmaMatrix: JSONNumber(n?.sigmaMatrix),
                         sigmaOp: n.map { SigmaOp(lower: JSONNumber($0.sigmaOpLower), upper: JSONNumber($0.sigmaOpUpper)) },
                         frobenius: JSONNumber(n?.frobenius), lipschitz: ModeValues(r.lipschitz),
                         iterations: n?.matrixEstimate?.iterations, method: n?.matrixEstimate?.method.rawValue,
                         achievedTolerance: JSONNumber(n?.matrixEstimate?.achievedTolerance),
                         operatorIterations: n?.operatorIterations,
                         gainFromInput: ModeValues(r.gainFromInput), gainToOutput: ModeValues(r.gainToOutput),
                         share: r.share.map(ModeValues.init), status: r.status, reason: r.reason,
                         lipschitzFolded: r.lipschitzFolded.map(ModeValues.init), lipschitzRescaled: r.lipschitzRescaled.map(ModeValues.init))
        }
        let net = result.network
        let p7 = net.eq7Precision, p8 = net.eq8Precision
        network = Network(output: net.output.tensor, outputChoice: net.output.how, perturbed: net.entries,
                          eq7: ModeValues(net.eq7), eq8: ModeValues(net.eq8), roundingPoints: net.roundingPoints,
                          precision: PrecisionTable(eq7: .init(matrix: p7.matrix, operator: p7.operator),
                                                    eq8: .init(matrix: p8.matrix, operator: p8.operator)),
                          tightening: net.tightening.map { Tightening($0, plain: net.eq7, nodes: result.nodes) })
        bracket = result.bracket.map(BracketInfo.init)
        notes = graph.notes + result.notes
        findings = result.findings
    }

    public func render(_ format: OutputFormat, color: Bool = false) throws -> String {
        switch format {
        case .json: return try encodeJSON(self)
        case .text: return text(color: color)
        case .markdown: return markdown()
        case .csv: return csv()
        case .html: return html()
        case .sarif, .github:
            return try FindingsRenderer.render(findings + [summaryFinding], format: format, modelPath: model.path)
        }
    }

    /// A KAPPA000 note with the bounds, so SARIF and annotations always say what was found.
    var summaryFinding: Finding {
        let p = network.precision
        return Finding(.note, "gain bound at '\(network.output)': Eq. 7 \(NumberText.value(network.eq7.matrix.bound)) (σ_matrix, \(NumberText.bits(p.eq7.matrix.bits)))"
                           + ", \(NumberText.value(network.eq7.operator.bound)) (σ_op, \(NumberText.bits(p.eq7.operator.bits))); Eq. 8 "
                           + "\(NumberText.value(network.eq8.matrix.bound)) / \(NumberText.value(network.eq8.operator.bound))"
                           + (network.tightening.map { t in
                               "; sound Eq. 7 after folding \(NumberText.value(t.folded.eq7.operator.bound)), after rescaling "
                                   + "\(NumberText.value(t.rescaled.eq7.operator.bound)) (\(NumberText.bits(t.rescaled.precision.operator.bits)), "
                                   + "\(Self.factorText(t.rescaled.factor.operator)))"
                           } ?? ""))
    }
}
