import Foundation
import ONNX
import Reference

/// `kappa-bench gradcheck MODEL SETDIR [OUTPUT [PERTURB]] [NAME=DIMS…]`: the engine's VJP on a
/// real model against central differences, on the inputs of one test-data set folder:
/// for seeded random u (output) and v (perturbed tensor), compares g·v (g = Jᵀu from one reverse
/// pass) with u·(f(x + hv) − f(x − hv))/(2h) in float64 sums of the float32 outputs, at h = 1e-2,
/// 1e-3 and 1e-4 relative to ‖x‖. A development tool for the reference engine.
func gradCheck(_ args: [String]) throws {
    guard args.count >= 2 else { throw BenchError("usage: kappa-bench gradcheck MODEL SETDIR [OUTPUT [PERTURB]] [NAME=DIMS…]") }
    var shapes: [String: [Int]] = [:]
    var positional: [String] = []
    for a in args {
        if let eq = a.firstIndex(of: "="), !a.hasPrefix("/") {
            shapes[String(a[..<eq])] = a[a.index(after: eq)...].split(separator: "x").compactMap { Int($0) }
        } else { positional.append(a) }
    }
    let graph = try ModelGraph(model: try ModelLoader.load(path: positional[0]), inputShapes: shapes)
    let cases = try ModelRun.cases(at: positional[1], graph: graph)
    guard let c = cases.first else { throw BenchError("no input set") }
    let output = positional.count > 2 ? positional[2] : graph.graph.outputs[0].name
    let perturb = positional.count > 3 ? positional[3] : graph.inputs[0].name
    let engine = try Engine(graph: graph, output: output, input: perturb)
    var feeds = c.feeds
    if feeds[perturb] == nil {
        let full = try Engine(graph: graph, outputs: [perturb], input: graph.inputs[0].name, requireDependence: false)
        guard let v = try full.forward(feeds).values[perturb] else { throw BenchError("cannot compute \(perturb)") }
        feeds[perturb] = v
    }
    guard let x = feeds[perturb] else { throw BenchError("no value for \(perturb)") }
    let trace = try engine.forward(feeds)
    let y = trace.result.data
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
    let u = (0..<y.count).map { _ in Float(uniform()) }
    var v = (0..<x.count).map { _ in uniform() }
    let vn = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    v = v.map { $0 / vn }
    let g = try engine.vjp(trace, cotangents: u, rows: 1)
    var gv = 0.0
    for i in 0..<x.count { gv += Double(g[i]) * v[i] }
    let xn = x.data.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    var rows: [[String: Any]] = []
    for rel in [1e-2, 1e-3, 1e-4] {
        let h = rel * max(xn, 1)
        func at(_ s: Double) throws -> [Float] {
            var f = feeds
            var xs = x
            for i in 0..<x.count { xs.data[i] = Float(Double(x.data[i]) + s * h * v[i]) }
            f[perturb] = xs
            return try engine.forward(f).result.data
        }
        let yp = try at(1), ym = try at(-1)
        var fd = 0.0
        for i in 0..<y.count { fd += Double(u[i]) * (Double(yp[i]) - Double(ym[i])) }
        fd /= 2 * h
        rows.append(["h": h, "finite_difference": fd, "vjp": gv, "rel_diff": abs(fd - gv) / max(abs(fd), abs(gv), 1e-30)])
    }
    // Batched reverse pass: row r of a 3-row batch must equal the single-row pass on row r.
    let u2 = (0..<y.count).map { _ in Float(uniform()) }
    let batch = try engine.vjp(trace, cotangents: u2 + u + u2, rows: 3)
    let single2 = try engine.vjp(trace, cotangents: u2, rows: 1)
    var batchDiff = 0.0, scale = 0.0
    for i in 0..<x.count {
        batchDiff = max(batchDiff, abs(Double(batch[x.count + i]) - Double(g[i])), abs(Double(batch[i]) - Double(single2[i])),
                        abs(Double(batch[2 * x.count + i]) - Double(single2[i])))
        scale = max(scale, abs(Double(g[i])), abs(Double(single2[i])))
    }
    rows.append(["batch_max_abs_diff": batchDiff, "batch_scale": scale])
    try emit(["model": positional[0], "output": output, "perturbed": perturb, "gradient_norm": g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), "checks": rows])
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
