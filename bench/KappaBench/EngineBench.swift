import Foundation
import ONNX
import Reference

/// `kappa-bench engine MODEL [REPEATS]`: the reference engine on the model's first input and
/// analysed-by-default first output, seeded uniform input in [0, 1): the median over REPEATS
/// (default 5, after one warm-up) of one forward pass, one single-row VJP, and one DeepFool-style
/// 10-row VJP; peak RSS of the process.
func engineRow(path: String, repeats: Int) throws -> [String: Any] {
    let t0 = now()
    let graph = try ModelGraph(model: try ModelLoader.load(path: path), inputShapes: [:])
    let load = now() - t0
    guard let input = graph.inputs.first, let shape = graph.shapes[input.name] else { throw BenchError("\(path): no input with a static shape") }
    let engine = try Engine(graph: graph, output: graph.graph.outputs.first?.name, input: input.name)
    var state: UInt64 = 42
    let n = shape.reduce(1, *)
    let x = Value(shape: shape, data: (0..<n).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24)
    })
    var fw: [Double] = [], v1: [Double] = [], v10: [Double] = []
    var outCount = 0
    for r in 0...repeats {
        var t = now()
        let trace = try engine.forward(x)
        let f = now() - t
        outCount = trace.result.count
        let cot1 = [Float](repeating: 1 / Float(outCount), count: outCount)
        t = now()
        _ = try engine.vjp(trace, cotangents: cot1, rows: 1)
        let b1 = now() - t
        var cot10 = [Float](repeating: 0, count: 10 * outCount)
        for k in 0..<10 { cot10[k * outCount + (k * 7919) % outCount] = 1 }
        t = now()
        _ = try engine.vjp(trace, cotangents: cot10, rows: 10)
        let b10 = now() - t
        if r > 0 { fw.append(f); v1.append(b1); v10.append(b10) }
    }
    func median(_ a: [Double]) -> Double { let s = a.sorted(); return s[s.count / 2] }
    return ["model": path, "load_s": load, "forward_s": median(fw), "vjp1_s": median(v1), "vjp10_s": median(v10),
            "forward_vjp1_s": median(fw) + median(v1), "outputs": outCount, "repeats": repeats, "peak_rss_bytes": peakRSS()]
}
