import Foundation
import ONNX
import Reference
import Sensitivity

/// `kappa quant` (and `kappa check --weights/--activations`): per weight layer ΔW = Q(W) − W,
/// its norms and SQNR, each layer's share of the sound output-error bound, the measured errors
/// with inputs, and a mixed-precision plan with `--max-error`. JSON keys: schemas/report.schema.json
/// `quant`.
public struct QuantReport: Codable, Sendable {
    public struct Measured: Codable, Sendable, Equatable {
        public var inputs: Int
        public var maxError: JSONNumber
        public var maxRelativeError: JSONNumber
        public var meanRelativeError: JSONNumber
        public var sqnrDb: JSONNumber
        public var top1Agreement: JSONNumber

        enum CodingKeys: String, CodingKey {
            case inputs
            case maxError = "max_error", maxRelativeError = "max_relative_error", meanRelativeError = "mean_relative_error"
            case sqnrDb = "sqnr_db", top1Agreement = "top1_agreement"
        }

        init(_ s: QuantMeasurement.Stats) {
            inputs = s.inputs
            maxError = JSONNumber(s.maxError)
            maxRelativeError = JSONNumber(s.maxRelativeError)
            meanRelativeError = JSONNumber(s.meanRelativeError)
            sqnrDb = JSONNumber(s.sqnr)
            top1Agreement = JSONNumber(s.top1Agreement)
        }
    }

    public struct Layer: Codable, Sendable, Equatable {
        public var index: Int
        public var node: String
        public var op: String
        public var weight: String
        public var weightShape: [Int]
        public var weights: String
        public var activations: String
        public var frobenius: JSONNumber
        public var deltaFrobenius: JSONNumber
        public var deltaSigma: JSONNumber
        public var deltaOperator: JSONNumber
        public var deltaIterations: Int
        public var maxAbsError: JSONNumber
        public var sqnrDb: JSONNumber
        public var channelSpread: JSONNumber
        public var sigmaOperator: JSONNumber
        public var inputSupNorm: JSONNumber
        public var activationStep: JSONNumber
        public var activationError: JSONNumber
        public var gainToOutput: JSONNumber
        public var errorPerUnitInput: JSONNumber
        public var weightTerm: JSONNumber
        public var activationTerm: JSONNumber
        public var predicted: JSONNumber
        public var share: JSONNumber
        public var measured: Measured?
        /// predicted / measured max error (≥ 1 when the bound holds).
        public var ratio: JSONNumber

        enum CodingKeys: String, CodingKey {
            case index, node, op, weight, weights, activations, frobenius, predicted, share, measured, ratio
            case weightShape = "weight_shape", deltaFrobenius = "delta_frobenius", deltaSigma = "delta_sigma"
            case deltaOperator = "delta_operator", deltaIterations = "delta_iterations", maxAbsError = "max_abs_error", sqnrDb = "sqnr_db", channelSpread = "channel_spread"
            case sigmaOperator = "sigma_operator", inputSupNorm = "input_sup_norm", activationStep = "activation_step"
            case activationError = "activation_error", gainToOutput = "gain_to_output", errorPerUnitInput = "error_per_unit_input"
            case weightTerm = "weight_term", activationTerm = "activation_term"
        }
    }

    public struct Network: Codable, Sendable, Equatable {
        public var output: String
        public var bound: JSONNumber
        public var outputSupNorm: JSONNumber
        public var measured: Measured?
        public var ratio: JSONNumber
        public var forwardPasses: Int?
        /// Measured κ of the float and the fake-quantized network (with inputs).
        public var kappa: KappaReport?
        enum CodingKeys: String, CodingKey {
            case output, bound, measured, ratio, kappa
            case outputSupNorm = "output_sup_norm", forwardPasses = "forward_passes"
        }
    }

    /// ``QuantMeasurement/Kappa``: DeepFool κ_max and random κ statistics of each network.
    public struct KappaReport: Codable, Sendable, Equatable {
        public struct Side: Codable, Sendable, Equatable {
            public var deepfoolMean: JSONNumber
            public var deepfoolMax: JSONNumber
            public var randomMean: JSONNumber
            public var randomMax: JSONNumber
            public var flipped: Int
            public var inputs: Int
            enum CodingKeys: String, CodingKey {
                case flipped, inputs
                case deepfoolMean = "deepfool_mean", deepfoolMax = "deepfool_max", randomMean = "random_mean", randomMax = "random_max"
            }
            init(_ m: MeasurementSummary) {
                deepfoolMean = JSONNumber(m.deepfool.mean?.kappa)
                deepfoolMax = JSONNumber(m.deepfool.max?.kappa)
                randomMean = JSONNumber(m.random.mean?.kappa)
                randomMax = JSONNumber(m.random.max?.kappa)
                flipped = m.flipped
                inputs = m.inputs
            }
        }
        public var float: Side
        public var quantized: Side
        init(_ k: QuantMeasurement.Kappa) {
            float = Side(k.float)
            quantized = Side(k.quantized)
        }
    }

    public struct PlanReport: Codable, Sendable, Equatable {
        public struct Step: Codable, Sendable, Equatable {
            public var excluded: String?
            public var measured: Measured
        }
        public struct NodeScheme: Codable, Sendable, Equatable {
            public var weights: String
            public var activations: String
        }
        /// The budgets given (null when not): --max-error and --min-agreement.
        public var maxError: JSONNumber
        public var minAgreement: JSONNumber
        public var met: Bool
        public var nodesToExclude: [String]
        public var nodes: [String: NodeScheme]
        public var steps: [Step]
        enum CodingKeys: String, CodingKey {
            case met, nodes, steps
            case maxError = "max_error", minAgreement = "min_agreement", nodesToExclude = "nodes_to_exclude"
        }
        /// "--max-error E, --min-agreement A" for the budgets given.
        public var budget: String {
            var parts: [String] = []
            if let e = maxError.value { parts.append("--max-error \(NumberText.value(e))") }
            if let a = minAgreement.value { parts.append("--min-agreement \(NumberText.value(a))") }
            return parts.joined(separator: ", ")
        }
    }

    public var schemaVersion = reportSchemaVersion
    public var tool = ToolInfo()
    public var model: ModelInfo
    public var command = "quant"
    public var weights: String
    public var activations: String
    public var norm: String
    public var domain: [String]?
    public var layers: [Layer]
    public var network: Network
    public var plan: PlanReport?
    public var gate: QuantGate.Outcome?
    public var notes: [String]
    public var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case tool, model, command, weights, activations, norm, domain, layers, network, plan, gate, notes, findings
        case schemaVersion = "schema_version"
    }

    public init(graph: ModelGraph, result r: QuantAnalysis.Result, domain: InputDomain?, measured: QuantMeasurement.Result? = nil,
                plan: QuantRun.Plan? = nil, gate: QuantGate.Outcome? = nil, kappa: QuantMeasurement.Kappa? = nil, notes extra: [String] = []) {
        model = ModelInfo(graph.model)
        weights = r.settings.weights.description
        activations = r.settings.activations.description
        norm = r.norm.rawValue
        self.domain = domain?.descriptions
        let per = Dictionary(measured?.perLayer.map { ($0.node, $0.stats) } ?? [], uniquingKeysWith: { a, _ in a })
        layers = r.layers.enumerated().map { k, l in
            let m = per[l.node]
            let predicted = l.term
            return Layer(index: k + 1, node: l.node, op: l.op, weight: l.weight, weightShape: l.shape, weights: l.weights.description,
                         activations: l.activations.description, frobenius: JSONNumber(l.frobenius), deltaFrobenius: JSONNumber(l.deltaFrobenius),
                         deltaSigma: JSONNumber(l.deltaSigma), deltaOperator: JSONNumber(l.deltaOperator), deltaIterations: l.deltaIterations, maxAbsError: JSONNumber(l.maxAbsError),
                         sqnrDb: JSONNumber(l.sqnr), channelSpread: JSONNumber(l.channelSpread), sigmaOperator: JSONNumber(l.sigma),
                         inputSupNorm: JSONNumber(l.inputSupNorm), activationStep: JSONNumber(l.activationStep),
                         activationError: JSONNumber(l.activationError), gainToOutput: JSONNumber(l.gainToOutput),
                         errorPerUnitInput: JSONNumber(l.weightTermPerUnit), weightTerm: JSONNumber(l.weightTerm),
                         activationTerm: JSONNumber(l.activationTerm), predicted: JSONNumber(predicted), share: JSONNumber(l.share),
                         measured: m.map(Measured.init), ratio: JSONNumber(Self.ratio(predicted, m?.maxError)))
        }
        network = Network(output: r.output, bound: JSONNumber(r.bound), outputSupNorm: JSONNumber(r.outputSupNorm),
                          measured: measured.map { Measured($0.all) }, ratio: JSONNumber(Self.ratio(r.bound, measured?.all.maxError)),
                          forwardPasses: measured?.forwardPasses, kappa: kappa.map(KappaReport.init))
        if let plan {
            var nodes: [String: PlanReport.NodeScheme] = [:]
            for l in r.layers {
                nodes[l.node] = .init(weights: plan.settings.weights(for: l.node).description, activations: plan.settings.activations(for: l.node).description)
            }
            self.plan = PlanReport(maxError: JSONNumber(plan.maxError), minAgreement: JSONNumber(plan.minAgreement), met: plan.met, nodesToExclude: plan.excluded, nodes: nodes,
                                   steps: plan.steps.map { .init(excluded: $0.excluded, measured: Measured($0.stats)) })
        }
        self.gate = gate
        notes = r.notes + extra
        var f = r.findings
        if let g = gate?.finding { f.append(g) }
        if let plan, !plan.met {
            let top1 = plan.final.top1Agreement.map { String(format: ", top-1 agreement %.1f%%", 100 * $0) } ?? ""
            f.append(Finding(.quantErrorOverBudget, "no plan meets \(self.plan?.budget ?? ""): with every layer kept in float32 the measured error is \(NumberText.value(plan.final.maxError))\(top1)"))
        }
        findings = f.map { $0.with(file: graph.path) }
    }

    static func ratio(_ p: Double?, _ m: Double?) -> Double? {
        guard let p, let m, m > 0 else { return nil }
        return p / m
    }

    /// The plan sidecar: `{"nodes": {NAME: {"weights", "activations"}}, "nodes_to_exclude": […]}`
    /// — the per-node overrides `kappa quant --overrides` reads back.
    public func sidecar() throws -> String? {
        guard let plan else { return nil }
        return try encodeJSON(plan)
    }

    public func render(_ format: OutputFormat, color: Bool = false) throws -> String {
        switch format {
        case .json: return try encodeJSON(self)
        case .sarif, .github: return try FindingsRenderer.render(findings, format: format, modelPath: model.path)
        case .csv:
            var s = "index,node,op,weights,activations,delta_frobenius,delta_sigma,sqnr_db,channel_spread,gain_to_output,predicted,share,measured_max_error,ratio\n"
            for l in layers {
                s += [String(l.index), l.node, l.op, l.weights, l.activations, NumberText.csv(l.deltaFrobenius.value), NumberText.csv(l.deltaSigma.value),
                      NumberText.csv(l.sqnrDb.value), NumberText.csv(l.channelSpread.value), NumberText.csv(l.gainToOutput.value),
                      NumberText.csv(l.predicted.value), NumberText.csv(l.share.value), NumberText.csv(l.measured?.maxError.value),
                      NumberText.csv(l.ratio.value)].map(FindingsRenderer.csvField).joined(separator: ",") + "\n"
            }
            return s
        case .markdown: return markdown()
        case .text: return text(color: color)
        case .html: return html()
        }
    }
}
