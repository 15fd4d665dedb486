import Foundation
import ONNX
import Sensitivity

/// `kappa diff FLOAT EXPORT --inputs PATH | --synthetic N`: how far the export's computation
/// drifts from the float model's on real inputs (DESIGN.md §1.10, measured).
///
/// - Output divergence: both models run on the same feeds; ``QuantMeasurement/compare(_:_:)``
///   of their outputs (max ‖Δy‖₂, max and mean ‖Δy‖₂/‖y‖₂, SQNR, top-1 agreement).
/// - Matched activations: every tensor a node of the float model computes that the export
///   also holds under the same name (QDQ exports and Cast-to-float16 graphs keep the float
///   names; the quantizer's own tensors, e.g. `…_QuantizeLinear_Output`, and renamed QOperator
///   outputs are not matched). The export's value of a tensor is the one it carries forward:
///   when the tensor's only reader is a QuantizeLinear whose only reader is a DequantizeLinear
///   (a QDQ activation), that DequantizeLinear's output — the rounded value every consumer
///   sees (onnxruntime's QDQ exports fuse a Relu into the preceding Conv and keep the Relu's
///   output name on the Conv's output, where the QuantizeLinear's saturation at the zero point
///   does the ReLU: the raw tensor is not the float model's). At each, with a = the float
///   value and â the export's:
///   * cumulative divergence ‖â(x) − a(x)‖₂ / ‖a(x)‖₂, both models run from x: everything
///     upstream included;
///   * local divergence ‖â(a_P) − a‖₂ / ‖a‖₂, where the export computes the tensor from the
///     float model's value at P (fed as P's carried value, so P's own rounding is not counted
///     again), the nearest matched activation upstream of it in the export
///     (the latest in topological order among its matched ancestors; tensors on other paths
///     are computed by the export from x): what the export adds between P and the tensor
///     alone. With no matched ancestor, local = cumulative.
/// Values are compared as float32 numbers; a tensor whose element counts differ between the two
/// graphs is reported as unmatched. Maxima and means are over the inputs.
public enum DiffDivergence {
    public struct Activation: Sendable, Equatable {
        public var tensor: String
        /// P: the matched activation the local divergence starts from (nil: from the inputs).
        public var from: String?
        public var localMax: Double
        public var localMean: Double
        public var cumulativeMax: Double
        public var cumulativeMean: Double
    }

    public struct Result: Sendable {
        public var output: String
        public var stats: QuantMeasurement.Stats
        public var activations: [Activation]
        public var forwardPasses: Int
    }

    public static func run(float: ModelGraph, export: ModelGraph, feeds: [[String: Value]], output: String? = nil) throws -> Result {
        guard let out = output ?? float.graph.outputs.first?.name else { throw ReferenceError.badOutput(name: "?", reason: "the float model declares no output") }
        guard export.producer[out] != nil || export.graph.outputs.contains(where: { $0.name == out }) else {
            throw ReferenceError.badOutput(name: out, reason: "the export has no tensor named '\(out)' (the float model's output)")
        }
        // Matched activations in the float model's topological order.
        var matched: [String] = []
        var seen = Set<String>()
        for idx in float.order {
            for t in float.graph.nodes[idx].outputs where !t.isEmpty && float.constants[t] == nil && export.constants[t] == nil
                && export.producer[t] != nil && seen.insert(t).inserted {
                matched.append(t)
            }
        }
        // The export's carried value of each matched tensor.
        var carried: [String: String] = [:]
        for t in matched {
            carried[t] = t
            let nodes = export.graph.nodes
            guard let qs = export.consumers[t], qs.count == 1, nodes[qs[0]].opType == "QuantizeLinear",
                  let q = nodes[qs[0]].outputs.first, let ds = export.consumers[q], ds.count == 1,
                  nodes[ds[0]].opType == "DequantizeLinear", let d = nodes[ds[0]].outputs.first, !d.isEmpty else { continue }
            carried[t] = d
        }
        let exportName = { (t: String) in carried[t] ?? t }
        let position = Dictionary(uniqueKeysWithValues: matched.enumerated().map { (exportName($1), $0) })
        let floatEngine = try Engine(graph: float, outputs: Array(Set(matched + [out])), requireDependence: false)
        let exportEngine = try Engine(graph: export, outputs: Array(Set(matched.map(exportName) + [out])), requireDependence: false)
        // P for each tensor: its latest matched ancestor in the export.
        var from: [String: String] = [:]
        for t in matched {
            guard let pt = position[exportName(t)] else { continue }
            var stack = [exportName(t)], visited = Set<String>(), best: String?, bestK = -1
            while let u = stack.popLast() {
                guard visited.insert(u).inserted, let p = export.producer[u] else { continue }
                for i in export.graph.nodes[p].inputs where !i.isEmpty {
                    if let k = position[i], k < pt {
                        if k > bestK { best = matched[k]; bestK = k }
                    } else {
                        stack.append(i)
                    }
                }
            }
            from[t] = best
        }
        var local: [String: Engine] = [:]
        for t in matched {
            if let p = from[t] { local[t] = try Engine(graph: export, outputs: [exportName(t)], input: exportName(p), requireDependence: false) }
        }

        var refOut: [Value] = [], expOut: [Value] = []
        var lo: [String: [Double]] = [:], cu: [String: [Double]] = [:]
        var comparable = Set(matched)
        var passes = 0
        for f in feeds {
            let a = try floatEngine.forward(f, keepAll: true), b = try exportEngine.forward(f, keepAll: true)
            passes += 2
            guard let ya = a.values[out], let yb = b.values[out] else { throw ReferenceError.badOutput(name: out, reason: "was not computed") }
            refOut.append(ya)
            expOut.append(yb)
            for t in matched where comparable.contains(t) {
                guard let va = a.values[t], let vb = b.values[exportName(t)], va.data.count == vb.data.count else { comparable.remove(t); continue }
                let c = relative(vb.data, va.data)
                cu[t, default: []].append(c)
                if let e = local[t], let p = from[t], let vp = a.values[p] {
                    var feed = f
                    feed[exportName(p)] = vp
                    let v = try e.forward(feed).result
                    passes += 1
                    lo[t, default: []].append(v.data.count == va.data.count ? relative(v.data, va.data) : .infinity)
                } else {
                    lo[t, default: []].append(c)
                }
            }
        }
        let acts = matched.filter(comparable.contains).map { t -> Activation in
            let l = lo[t] ?? [], c = cu[t] ?? []
            return Activation(tensor: t, from: from[t], localMax: l.max() ?? 0, localMean: l.isEmpty ? 0 : l.reduce(0, +) / Double(l.count),
                              cumulativeMax: c.max() ?? 0, cumulativeMean: c.isEmpty ? 0 : c.reduce(0, +) / Double(c.count))
        }
        return Result(output: out, stats: QuantMeasurement.compare(refOut, expOut), activations: acts, forwardPasses: passes)
    }

    /// ‖x − y‖₂ / ‖y‖₂ (0 when both are zero, +∞ when only y is).
    static func relative(_ x: [Float], _ y: [Float]) -> Double {
        var d = 0.0, n = 0.0
        for (a, b) in zip(x, y) {
            let e = Double(a) - Double(b)
            d += e * e
            n += Double(b) * Double(b)
        }
        return n > 0 ? (d / n).squareRoot() : (d > 0 ? .infinity : 0)
    }
}
