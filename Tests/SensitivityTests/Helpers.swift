import Foundation
import KappaTestSupport
import ONNX
import Sensitivity

/// Writes `spec` to a temporary file and prepares it for analysis.
func loadGraph(_ spec: ModelSpec, name: String = UUID().uuidString) throws -> ModelGraph {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-sensitivity-tests")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("\(name).onnx").path
    try ONNXWriter.write(spec, to: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try ModelGraph(model: try ModelLoader.load(path: path))
}

func analyze(_ spec: ModelSpec, norm: NormMode = .matrix, exact: Bool = true, output: String? = nil) throws -> AnalysisResult {
    let g = try loadGraph(spec)
    return try SensitivityAnalysis.run(g, options: AnalysisOptions(norm: norm, spectral: .init(exact: exact), output: output, threads: 2))
}

func relClose(_ a: Double, _ b: Double, _ tol: Double = 1e-9) -> Bool {
    abs(a - b) <= tol * max(abs(a), abs(b), 1e-300)
}
