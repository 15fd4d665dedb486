import Foundation
import Linalg
import ONNX
import Reports
import Sensitivity

/// `kappa-bench analyze MODEL`: the time of the norms alone (load, classify weight layers,
/// their σ_matrix and Frobenius norms on all cores) next to the whole `kappa analyze`
/// pipeline (load, norms, Lipschitz table, Eq. 7/8, JSON report) on the same model,
/// so their ratio shows what the analysis adds on top of the norms.
func analyzeRows(path: String) throws -> [String: Any] {
    let threads = ProcessInfo.processInfo.activeProcessorCount
    // Norms only.
    var t0 = now()
    var graph = try ModelGraph(model: try ModelLoader.load(path: path))
    let ctx = GraphContext(graph)
    var layers: [WeightLayer] = []
    for idx in graph.order {
        let n = graph.graph.nodes[idx]
        if !ctx.isFolded(n), let l = WeightLayers.layer(n, index: idx, ctx: ctx) { layers.append(l) }
    }
    let norms = WeightLayers.computeNorms(layers, mode: .matrix, options: SpectralOptions(), threads: threads)
    let normsOnly = now() - t0
    // Whole pipeline, as `kappa analyze --norm matrix --format json`.
    t0 = now()
    graph = try ModelGraph(model: try ModelLoader.load(path: path))
    let result = try SensitivityAnalysis.run(graph, options: AnalysisOptions(norm: .matrix, threads: threads))
    let json = try AnalyzeReport(graph: graph, result: result).render(.json)
    let whole = now() - t0
    return ["model": path, "layers": norms.count, "norms_only_s": normsOnly, "analyze_s": whole,
            "ratio": whole / normsOnly, "report_bytes": json.utf8.count]
}
