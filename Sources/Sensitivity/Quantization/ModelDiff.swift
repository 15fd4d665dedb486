import Foundation
import Linalg
import ONNX

/// `kappa diff FLOAT.onnx QUANTIZED.onnx`: the weight layers of a float model matched with
/// those of its quantized or float16 export, and per pair ΔW = W_export − W_float.
///
/// Weights are read as every analysis reads them (DESIGN.md §1.1, §1.7): folded constants, so a
/// QDQ export's DequantizeLinear of int8 weights, a Cast of float16 initializers and a
/// QOperator layer's (QLinearConv, QLinearMatMul, QGemm, dynamic chains) dequantized weight
/// w_s ⊙ (w_q − w_zp) all appear as real-valued weights of the same layout as the float one.
/// Matching, in order: the same node name; the same name once an exporter's suffix
/// (`_quant`, `_quantized`, `_fp16`, `_QuantizeLinear`…) is stripped; then, among layers still
/// unmatched, the float and export layers in topological order whose weights have the same
/// shape (a sequence walk that never goes back). Everything left is listed unmatched.
public enum ModelDiff {
    public struct Pair: Sendable {
        public var floatNode: String
        public var exportNode: String
        public var floatOp: String
        public var exportOp: String
        public var shape: [Int]
        public var matchedBy: String
        public var frobenius: Double
        public var deltaFrobenius: Double
        public var deltaSigma: Double
        public var maxAbs: Double
        /// ‖ΔW‖_F / ‖W‖_F.
        public var relative: Double { frobenius > 0 ? deltaFrobenius / frobenius : (deltaFrobenius > 0 ? .infinity : 0) }
        /// 20·log10(‖W‖_F / ‖ΔW‖_F); +∞ for identical weights.
        public var sqnr: Double { deltaFrobenius > 0 ? 20 * log10(frobenius / deltaFrobenius) : .infinity }
    }

    public struct Unmatched: Sendable, Equatable {
        public var node: String
        public var op: String
        public var shape: [Int]
    }

    public struct Result: Sendable {
        public var pairs: [Pair]
        public var unmatchedFloat: [Unmatched]
        public var unmatchedExport: [Unmatched]
        /// max over the pairs of ‖ΔW‖_F / ‖W‖_F (0 with no pair).
        public var maxRelative: Double { pairs.map(\.relative).max() ?? 0 }
    }

    static let suffixes = ["_quantized", "_quant", "_fp16", "_QuantizeLinear", "_DequantizeLinear", "_dequantized", "_MatMulInteger", "_int8"]

    static func stem(_ name: String) -> String {
        var s = name
        var changed = true
        while changed {
            changed = false
            for suf in suffixes where s.hasSuffix(suf) && s.count > suf.count {
                s.removeLast(suf.count)
                changed = true
            }
        }
        return s
    }

    static func layers(_ g: ModelGraph) throws(SensitivityError) -> [WeightLayer] {
        let plan = try SensitivityAnalysis.plan(g)
        return plan.weightLayers.filter { if case .matrix = $0.view { return true } else { return false } }
    }

    public static func run(float f: ModelGraph, export e: ModelGraph, spectral: SpectralOptions = .init(),
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws(SensitivityError) -> Result {
        let a = try layers(f), b = try layers(e)
        var match: [Int: (Int, String)] = [:]
        var used = Set<Int>()
        func tryMatch(_ key: (WeightLayer) -> String, _ how: String) {
            var byKey: [String: [Int]] = [:]
            for (j, l) in b.enumerated() where !used.contains(j) { byKey[key(l), default: []].append(j) }
            for (i, l) in a.enumerated() where match[i] == nil {
                guard let js = byKey[key(l)], let j = js.first(where: { !used.contains($0) && b[$0].weight.dims == l.weight.dims }) else { continue }
                match[i] = (j, how)
                used.insert(j)
            }
        }
        tryMatch({ $0.node }, "name")
        tryMatch({ stem($0.node) }, "name")
        // Topological order: the next unmatched export layer of the same shape after the last match.
        var cursor = 0
        for i in a.indices {
            if let (j, _) = match[i] { cursor = max(cursor, j + 1); continue }
            if let j = (cursor..<b.count).first(where: { !used.contains($0) && b[$0].weight.dims == a[i].weight.dims }) {
                match[i] = (j, "order")
                used.insert(j)
                cursor = j + 1
            }
        }
        var pairs: [Pair] = []
        var deltas: [WeightLayer] = []
        for i in a.indices {
            guard let (j, how) = match[i] else { continue }
            let wa = a[i].weight.floats(), wb = b[j].weight.floats()
            var d = [Float](repeating: 0, count: wa.count)
            var fr = 0.0, df = 0.0, mx = 0.0
            for k in wa.indices {
                let dv = Double(wb[k]) - Double(wa[k])
                d[k] = Float(dv)
                fr += Double(wa[k]) * Double(wa[k])
                df += dv * dv
                mx = max(mx, abs(dv))
            }
            var dl = a[i]
            dl.weight = Tensor(name: a[i].weight.name + ".diff", dims: a[i].weight.dims, floats: d)
            deltas.append(dl)
            pairs.append(Pair(floatNode: a[i].node, exportNode: b[j].node, floatOp: a[i].op, exportOp: b[j].op, shape: a[i].weight.dims,
                              matchedBy: how, frobenius: fr.squareRoot(), deltaFrobenius: df.squareRoot(), deltaSigma: 0, maxAbs: mx))
        }
        let norms = WeightLayers.computeNorms(deltas, mode: .matrix, options: spectral, threads: threads)
        for k in pairs.indices { pairs[k].deltaSigma = norms[k].sigmaMatrix ?? .nan }
        let unA = a.indices.filter { match[$0] == nil }.map { Unmatched(node: a[$0].node, op: a[$0].op, shape: a[$0].weight.dims) }
        let unB = b.indices.filter { !used.contains($0) }.map { Unmatched(node: b[$0].node, op: b[$0].op, shape: b[$0].weight.dims) }
        return Result(pairs: pairs, unmatchedFloat: unA, unmatchedExport: unB)
    }
}
