import Foundation
import ONNX

/// The report of `kappa validate` (DESIGN.md §1.6, §3.1): per-input rows and the Table I
/// summary, plus the settings that make shard reports mergeable (`kappa merge`).
public struct ValidationReport: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var index: Int
        public var source: String
        public var label: Int
        public var adversarialLabel: Int
        public var flipped: Bool
        public var steps: Int
        public var relPerturbation: JSONNumber
        public var kappaFinal: JSONNumber
        public var kappaMax: JSONNumber
        public var kappaRandom: JSONNumber
        public var gainMax: JSONNumber

        enum CodingKeys: String, CodingKey {
            case index, source, label, flipped, steps
            case adversarialLabel = "adversarial_label"
            case relPerturbation = "rel_perturbation"
            case kappaFinal = "kappa_final"
            case kappaMax = "kappa_max"
            case kappaRandom = "kappa_random"
            case gainMax = "gain_max"
        }

        init(_ m: InputMeasurement) {
            index = m.index
            source = m.source
            label = m.label
            adversarialLabel = m.adversarialLabel
            flipped = m.flipped
            steps = m.steps
            relPerturbation = JSONNumber(m.relPerturbation)
            kappaFinal = JSONNumber(m.kappaFinal)
            kappaMax = JSONNumber(m.kappaMax)
            kappaRandom = JSONNumber(m.kappaRandom)
            gainMax = JSONNumber(m.gainMax)
        }

        var measurement: InputMeasurement {
            InputMeasurement(index: index, source: source, label: label, adversarialLabel: adversarialLabel, flipped: flipped,
                             steps: steps, relPerturbation: relPerturbation.value, kappaFinal: kappaFinal.value,
                             kappaMax: kappaMax.value, kappaRandom: kappaRandom.value, gainMax: gainMax.value)
        }
    }

    public struct Stats: Codable, Sendable, Equatable {
        public var mean: Precision?
        public var max: Precision?
        public var min: Precision?
        public var count: Int

        init(_ s: KappaStatistics) {
            mean = s.mean
            max = s.max
            min = s.min
            count = s.count
        }

        var statistics: KappaStatistics { KappaStatistics(mean: mean, max: max, min: min, count: count) }
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var deepfool: Stats
        public var random: Stats
        public var observedGainMax: JSONNumber
        public var bound: JSONNumber
        public var tightness: JSONNumber
        public var inputs: Int
        public var flipped: Int

        enum CodingKeys: String, CodingKey {
            case deepfool, random, bound, tightness, inputs, flipped
            case observedGainMax = "observed_gain_max"
        }

        init(_ s: MeasurementSummary) {
            deepfool = Stats(s.deepfool)
            random = Stats(s.random)
            observedGainMax = JSONNumber(s.observedGainMax)
            bound = JSONNumber(s.bound)
            tightness = JSONNumber(s.tightness)
            inputs = s.inputs
            flipped = s.flipped
        }
    }

    public struct Shard: Codable, Sendable, Equatable {
        public var index: Int
        public var count: Int
    }

    /// Everything a shard report must share with the others to be merged.
    public struct Settings: Codable, Sendable, Equatable {
        public var output: String
        /// The perturbed tensor x.
        public var perturbed: String?
        public var inputs: String
        public var totalInputs: Int
        public var maxSteps: Int
        public var overshoot: Double
        public var candidates: Int
        public var seed: UInt64
        public var clip: [Double]?
        public var modelBytes: Int
        /// How the graph inputs other than the listed one got their values.
        public var otherInputs: [String]?

        enum CodingKeys: String, CodingKey {
            case output, perturbed, inputs, overshoot, candidates, seed, clip
            case otherInputs = "other_inputs"
            case totalInputs = "total_inputs"
            case maxSteps = "max_steps"
            case modelBytes = "model_bytes"
        }
    }

    public var schemaVersion = reportSchemaVersion
    public var tool = ToolInfo()
    public var model: ModelInfo
    public var settings: Settings
    public var shards: [Shard]
    public var inputs: [Row]
    public var summary: Summary
    public var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case tool, model, settings, shards, inputs, summary, findings
        case schemaVersion = "schema_version"
    }

    /// The report of one measurement run.
    public init(result r: MeasurementResult, model m: Model) {
        model = ModelInfo(m)
        let o = r.settings
        settings = Settings(output: o.output, perturbed: o.perturbed, inputs: o.inputs, totalInputs: o.totalInputs,
                            maxSteps: o.maxSteps, overshoot: o.overshoot, candidates: o.candidates, seed: o.seed,
                            clip: o.clip.map { [$0.lowerBound, $0.upperBound] }, modelBytes: m.fileSize,
                            otherInputs: o.otherInputs.isEmpty ? nil : o.otherInputs)
        shards = [Shard(index: o.shard.index, count: o.shard.count)]
        inputs = r.rows.map(Row.init)
        summary = Summary(r.summary)
        findings = MeasurementResult.findings(rows: r.rows, summary: r.summary, maxSteps: o.maxSteps)
    }

    /// The summary as the gate policy reads it.
    public var measurementSummary: MeasurementSummary {
        var s = MeasurementSummary(rows: inputs.map(\.measurement), bound: summary.bound.value)
        s.deepfool = summary.deepfool.statistics
        s.random = summary.random.statistics
        return s
    }

    /// Combines shard reports of one run: same model and settings, disjoint shards of the
    /// same count; rows are pooled (sorted by input index) and the summary recomputed.
    public static func merge(_ reports: [(path: String, report: ValidationReport)]) throws -> ValidationReport {
        guard let (firstPath, first) = reports.first else { throw MergeError("no reports to merge") }
        var rows: [Row] = []
        var shards: [Shard] = []
        var seen = Set<Int>()
        for (path, r) in reports {
            guard r.schemaVersion == first.schemaVersion else {
                throw MergeError("\(path): schema_version \(r.schemaVersion) differs from \(firstPath) (\(first.schemaVersion))")
            }
            guard r.model.path == first.model.path, r.settings.modelBytes == first.settings.modelBytes else {
                throw MergeError("\(path): model '\(r.model.path)' differs from '\(first.model.path)' in \(firstPath)")
            }
            guard r.settings == first.settings else {
                throw MergeError("\(path): settings differ from \(firstPath) (output, inputs, steps, overshoot, seed or clip)")
            }
            guard r.summary.bound == first.summary.bound else { throw MergeError("\(path): bound differs from \(firstPath)") }
            for s in r.shards {
                guard s.count == first.shards.first?.count else { throw MergeError("\(path): shard \(s.index)/\(s.count) is not of the same split as \(firstPath)") }
                guard !shards.contains(s) else { throw MergeError("\(path): shard \(s.index)/\(s.count) appears twice") }
                shards.append(s)
            }
            for row in r.inputs {
                guard seen.insert(row.index).inserted else { throw MergeError("\(path): input #\(row.index) appears in two reports") }
                rows.append(row)
            }
        }
        rows.sort { $0.index < $1.index }
        var out = first
        out.shards = shards.sorted { $0.index < $1.index }
        out.inputs = rows
        let measured = rows.map(\.measurement)
        let summary = MeasurementSummary(rows: measured, bound: first.summary.bound.value)
        out.summary = Summary(summary)
        out.findings = MeasurementResult.findings(rows: measured, summary: summary, maxSteps: first.settings.maxSteps)
        if let n = first.shards.first?.count, shards.count < n {
            out.findings.append(Finding(.note, "merged \(shards.count) of \(n) shards; the summary covers \(rows.count) of \(first.settings.totalInputs) inputs",
                                        severity: .warning))
        }
        return out
    }

    public struct MergeError: Error, LocalizedError {
        public let message: String
        init(_ m: String) { message = m }
        public var errorDescription: String? { message }
    }
}
