/// Stable rule ids of Kappa's findings, each with its name, description and SARIF level.
/// Never renumber one: CI configurations and SARIF baselines key on the ids.
public enum Rule: String, Sendable, Codable, CaseIterable {
    /// Informational notes: defaults applied, inputs that did not flip, partial merges.
    case note = "KAPPA000"
    /// A weight tensor holds NaN or infinite values.
    case nonFiniteWeight = "KAPPA001"
    /// A node's op is outside the Lipschitz table (DESIGN.md §1.2).
    case unsupportedOp = "KAPPA002"
    /// A recognised node without a finite Lipschitz bound (products of variables, normalisations,
    /// discontinuities) — or a network bound that overflows Double.
    case unboundedOp = "KAPPA003"
    /// The required bits exceed the `--max-bits` budget (or cannot be certified).
    case precisionOverBudget = "KAPPA004"
    /// A measured gain exceeds the bound that was claimed sound: a defect of the bound.
    case boundViolated = "KAPPA005"
    /// A node unbounded without an input domain that `--input-range` would bound (products,
    /// divisions, normalisations, exp/log/sqrt/pow).
    case needsDomain = "KAPPA006"
    /// The output error of a quantization scheme (the static bound, or the measured error with
    /// inputs) exceeds the `--max-error` budget (or cannot be bounded).
    case quantErrorOverBudget = "KAPPA007"
    /// A quantized or float16 export's weights diverge from the float model's beyond
    /// `kappa diff --max-divergence`.
    case exportDivergence = "KAPPA008"

    public var id: String { rawValue }

    /// PascalCase name (SARIF `rules[].name`).
    public var name: String {
        switch self {
        case .note: return "AnalysisNote"
        case .nonFiniteWeight: return "NonFiniteWeight"
        case .unsupportedOp: return "UnsupportedOperator"
        case .unboundedOp: return "UnboundedOperator"
        case .precisionOverBudget: return "PrecisionOverBudget"
        case .boundViolated: return "BoundViolated"
        case .needsDomain: return "NeedsInputDomain"
        case .quantErrorOverBudget: return "QuantizationErrorOverBudget"
        case .exportDivergence: return "ExportDivergence"
        }
    }

    public var summary: String {
        switch self {
        case .note: return "Analysis note"
        case .nonFiniteWeight: return "Weight tensor holds NaN or infinite values"
        case .unsupportedOp: return "Operator outside Kappa's Lipschitz table"
        case .unboundedOp: return "Operator without a finite Lipschitz bound"
        case .precisionOverBudget: return "Required precision exceeds the bit budget"
        case .boundViolated: return "Measured gain exceeds the sound bound"
        case .needsDomain: return "Unbounded without an input domain"
        case .quantErrorOverBudget: return "Quantization error exceeds the error budget"
        case .exportDivergence: return "Exported weights diverge from the float model"
        }
    }

    public var help: String {
        switch self {
        case .note: return "Informational: how the analysis was set up (defaults applied, inputs that did not flip)."
        case .nonFiniteWeight: return "A weight holds NaN or ±∞: the layer's norm and every bound through it are undefined. Fix the export."
        case .unsupportedOp: return "The op is not in Kappa's Lipschitz table, so the network bound is unbounded; everything else is still reported."
        case .unboundedOp: return "The op has no finite global Lipschitz bound for these operands (a product of two variable tensors, a division by a variable, a normalisation, a discontinuity)."
        case .precisionOverBudget: return "The bits the gated κ needs (⌈log₂ κ⌉ + 1) exceed --max-bits, or κ is unbounded and nothing can be certified."
        case .boundViolated: return "A measured ‖δy‖/‖δx‖ exceeds a bound Kappa calls sound. This is a defect in Kappa: please report it with the model."
        case .needsDomain: return "The op has no global Lipschitz bound (a product of variables, a division, a normalisation, exp/log/sqrt/pow), but it has one on a bounded input domain: declare it with --input-range NAME=LO,HI."
        case .quantErrorOverBudget: return "The output error ‖f_Q(x) − f(x)‖₂ of the quantization scheme — Kappa's sound static bound over the input domain, or the largest error measured on --inputs/--synthetic — exceeds --max-error, or it cannot be bounded (no input domain, an unbounded node). `kappa quant --max-error` plans which layers to keep in higher precision."
        case .exportDivergence: return "A matched weight layer's relative divergence ‖W_export − W_float‖_F / ‖W_float‖_F exceeds `kappa diff --max-divergence`: the export does not hold the weights of the float model it claims to quantize (a wrong checkpoint, a transposed or mis-scaled weight, a quantizer bug)."
        }
    }

    /// The SARIF `defaultConfiguration.level` (and the severity Kappa gives its findings).
    public var level: Finding.Severity {
        switch self {
        case .note: return .note
        case .nonFiniteWeight, .precisionOverBudget, .boundViolated, .quantErrorOverBudget, .exportDivergence: return .error
        case .unsupportedOp, .unboundedOp, .needsDomain: return .warning
        }
    }
}

/// One finding: a stable rule, a severity, a message, and the node it points at. Every
/// renderer (text, JSON, SARIF, GitHub annotations, Markdown) renders the same findings.
public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable { case error, warning, note }
    public var rule: Rule
    public var severity: Severity
    public var message: String
    public var node: String?
    /// The model file, when a report covers several (`kappa check a.onnx b.onnx`).
    public var file: String?

    /// A finding at its rule's level (the usual case) or at an explicit severity.
    public init(_ rule: Rule, _ message: String, node: String? = nil, file: String? = nil, severity: Severity? = nil) {
        self.rule = rule
        self.severity = severity ?? rule.level
        self.message = message
        self.node = node
        self.file = file
    }

    enum CodingKeys: String, CodingKey { case rule, severity, message, node, file }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule.id, forKey: .rule)
        try c.encode(severity, forKey: .severity)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(node, forKey: .node)
        try c.encodeIfPresent(file, forKey: .file)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .rule)
        guard let r = Rule(rawValue: id) else {
            throw DecodingError.dataCorruptedError(forKey: .rule, in: c, debugDescription: "unknown rule id \(id)")
        }
        rule = r
        severity = try c.decode(Severity.self, forKey: .severity)
        message = try c.decode(String.self, forKey: .message)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        file = try c.decodeIfPresent(String.self, forKey: .file)
    }

    public func with(file: String) -> Finding { var f = self; f.file = file; return f }
}
