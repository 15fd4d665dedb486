import Foundation
import Linalg
import ONNX
import Reference
import Reports
import Sensitivity

/// The pipeline one fuzzed model goes through, in-process, as the CLI runs it: load and
/// prepare, `inspect` (every format), `analyze` with both norm modes (every format) and a
/// short `validate --synthetic 1`. Returns the error messages met (nil for a stage that ran);
/// a crash ends the process instead, which is what the fuzzer hunts.
public enum PipelineRun {
    public struct Outcome: Sendable {
        /// One entry per stage that refused, with its one-line message.
        public var errors: [(stage: String, message: String)] = []
        public var stagesRun = 0
    }

    public static func run(path: String) -> Outcome {
        var out = Outcome()
        let graph: ModelGraph
        do {
            graph = try ModelGraph(model: try ModelLoader.load(path: path))
        } catch {
            out.errors.append(("load", error.localizedDescription))
            return out
        }
        out.stagesRun += 1
        for f in [OutputFormat.text, .json, .sarif, .html] { _ = try? InspectReport(graph).render(f) }
        for mode in [NormMode.matrix, .operator] {
            do {
                let options = AnalysisOptions(norm: mode, spectral: SpectralOptions(operatorTolerance: 1e-2, maxIterations: 25),
                                              threads: 1)
                let r = try SensitivityAnalysis.run(graph, options: options)
                let report = AnalyzeReport(graph: graph, result: r)
                for f in [OutputFormat.text, .json, .csv, .markdown, .sarif, .html] { _ = try report.render(f) }
                out.stagesRun += 1
            } catch {
                out.errors.append(("analyze \(mode.rawValue)", error.localizedDescription))
            }
        }
        do {
            let plan = try SensitivityAnalysis.plan(graph)
            try Validation.check(graph: graph, plan: plan)
            let shape = try Validation.inputShape(of: graph, plan: plan)
            let inputs = InputSet.synthetic(count: 1, range: 0...1, seed: 1, shape: shape)
            let options = ValidationOptions(deepFool: DeepFoolOptions(maxSteps: 3), seed: 1)
            let result = try Validation.run(graph: graph, plan: plan, inputs: inputs, inputsDescription: "synthetic 1", options: options)
            _ = try ValidationReport(result: result, model: graph.model).render(.json)
            out.stagesRun += 1
        } catch {
            out.errors.append(("validate", error.localizedDescription))
        }
        return out
    }
}
