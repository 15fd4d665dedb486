import ArgumentParser
import Foundation
import ONNX
import Reference
import Reports

/// `kappa run`: evaluate the model with Kappa's reference engine (the one `validate`
/// differentiates) and compare with expected outputs.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate the model with Kappa's engine on input sets; compare with expected outputs.",
        discussion: """
            --inputs PATH: a folder of ONNX test-data sets (test_data_set_*/input_k.pb, optionally \
            output_k.pb), one such set, one .pb file or .npy files (models with one input). Inputs and \
            outputs are matched to the graph by TensorProto name, else by k. An output passes when \
            every element has |actual − expected| ≤ atol + rtol·|expected| (NumPy's allclose; integer \
            and bool outputs exactly). Exit 1 when any compared output fails. --save DIR writes each \
            output as DIR/<set>/output_k.pb (or .npy with --save-format npy).
            """)

    @Argument(help: "The .onnx model file.")
    var model: String

    @Option(help: ArgumentHelp("Input sets (see above).", valueName: "PATH"))
    var inputs: String

    @Option(name: .customLong("tolerance"), help: ArgumentHelp("Relative tolerance rtol.", valueName: "RTOL"))
    var rtol: Double = 1e-3

    @Option(help: ArgumentHelp("Absolute tolerance.", valueName: "ATOL"))
    var atol: Double = 1e-7

    @Option(help: ArgumentHelp("Write the outputs under DIR.", valueName: "DIR"))
    var save: String?

    @Option(name: .customLong("save-format"), help: "pb (ONNX TensorProto) or npy.")
    var saveFormat: SaveFormat = .pb

    @Flag(help: "Print a per-op time profile of the engine on stderr.")
    var profile = false

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var outputOptions: OutputOptions

    enum SaveFormat: String, ExpressibleByArgument, CaseIterable { case pb, npy }

    func validate() throws {
        guard rtol >= 0, rtol.isFinite else { throw ValidationError("--tolerance must be a non-negative number") }
        guard atol >= 0, atol.isFinite else { throw ValidationError("--atol must be a non-negative number") }
        guard RunReport.supports(outputOptions.format) else {
            throw ValidationError("run writes text, json, markdown or csv, not \(outputOptions.format.rawValue)")
        }
    }

    func run() throws {
        let graph = try modelOptions.load(model)
        let report: RunReport
        do {
            let engine = try ModelRun.engine(graph)
            engine.profiling = profile
            let cases = try ModelRun.cases(at: inputs, graph: graph)
            var results: [ModelRun.CaseResult] = []
            var files: [String: String] = [:]
            for (i, c) in cases.enumerated() {
                let r = try ModelRun.run(engine, c, rtol: rtol, atol: atol)
                results.append(r)
                if cases.count > 1 { Diagnostics.progress("[\(i + 1)/\(cases.count)] \(c.source): \(r.comparisons.filter(\.passed).count)/\(r.comparisons.count) outputs match") }
                if let save { files.merge(try write(r, under: save, graph: graph)) { a, _ in a } }
            }
            if profile { Diagnostics.emitProfile(engine.profile) }
            report = RunReport(model: graph.model, rtol: rtol, atol: atol, results: results, files: files)
        } catch let e as ReferenceError {
            throw MeasurementOptions.cliError(e, model)
        }
        try outputOptions.emit(try report.render(outputOptions.format))
        if report.failed > 0 { throw ExitCode(ExitStatus.gateFailed.rawValue) }
    }

    /// Writes every output of one set as `DIR/<set>/output_k.pb` (k: its graph position).
    func write(_ r: ModelRun.CaseResult, under dir: String, graph: ModelGraph) throws -> [String: String] {
        let folderName = r.source.hasSuffix(".pb") || r.source.hasSuffix(".npy") ? (r.source as NSString).deletingPathExtension : r.source
        let folder = (dir as NSString).appendingPathComponent(folderName)
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw KappaError("cannot create '\(folder)': \(error.localizedDescription)")
        }
        var out: [String: String] = [:]
        let names = graph.graph.outputs.map(\.name)
        for (name, v) in r.outputs {
            let k = names.firstIndex(of: name) ?? 0
            let path = (folder as NSString).appendingPathComponent("output_\(k).\(saveFormat.rawValue)")
            let data: Data
            do {
                data = saveFormat == .pb ? try TensorWriter.tensorProto(name: name, dims: v.shape, type: v.dtype, values: v.data)
                                         : try TensorWriter.npy(dims: v.shape, type: v.dtype, values: v.data)
            } catch {
                throw KappaError("\(path): output '\(name)': \(error.description)")
            }
            do { try data.write(to: URL(fileURLWithPath: path)) } catch {
                throw KappaError("cannot write '\(path)': \(error.localizedDescription)")
            }
            out["\(r.source)/\(name)"] = path
        }
        return out
    }
}
