import Foundation
import Linalg
import ONNX
import Reports
import Sensitivity

/// `kappa-bench analyze MODEL norms|whole`: one process per measurement, so neither
/// inherits the other's page cache state or heap.
/// - norms: load, classify the weight layers and compute their σ_matrix and Frobenius norms
///   on all cores — the norms alone;
/// - whole: the `kappa analyze --norm matrix --format json` pipeline (load, norms, Lipschitz
///   table, Eq. 7/8, precision, JSON report).
func analyzeRow(path: String, mode: String) throws -> [String: Any] {
    let threads = ProcessInfo.processInfo.activeProcessorCount
    let t0 = now()
    let graph = try ModelGraph(model: try ModelLoader.load(path: path))
    var layers = 0
    if mode == "norms" {
        let weightLayers = try SensitivityAnalysis.plan(graph).weightLayers
        layers = WeightLayers.computeNorms(weightLayers, mode: .matrix, options: SpectralOptions(), threads: threads).count
    } else {
        let result = try SensitivityAnalysis.run(graph, options: AnalysisOptions(norm: .matrix, threads: threads))
        _ = try AnalyzeReport(graph: graph, result: result).render(.json)
        layers = result.nodes.filter { $0.weight != nil }.count
    }
    return ["model": path, "mode": mode, "layers": layers, "total_s": now() - t0]
}
