import ONNX
import Sensitivity

/// Values for the graph inputs a run needs besides the perturbed tensor, by documented
/// defaults (the README's "Synthetic inputs"), seeded per input index:
/// - floating-point inputs: uniform in their domain (`--input-range`) when one is declared, else
///   in `range` (default [0, 1]);
/// - integer inputs that index a table (read as Gather indices, or OneHot's): token ids
///   uniform in [0, rows of the table) or [0, depth);
/// - integer or bool inputs whose name contains "mask": ones (nothing masked);
/// - other integer inputs: 0 (states, offsets); bool inputs: true;
/// - a declared `--input-range` on an integer input overrides these: integers uniform in
///   [lo, hi] (a constant when lo = hi).
/// The shapes are the graph's static input shapes (fix symbolic ones with --input-shape).
public enum SyntheticFeeds {
    public static func make(graph: ModelGraph, inputs: [ValueInfo], skip: String?, seed: UInt64, index: Int,
                            range: ClosedRange<Float>, domain: InputDomain?) throws(ReferenceError) -> [String: Value] {
        var feeds: [String: Value] = [:]
        var rng = RandomSource(seed: seed ^ 0xFEED_5EED, stream: index)
        for vi in inputs where vi.name != skip {
            guard let shape = graph.shapes[vi.name] else {
                throw .badFeed(reason: "the shape of input '\(vi.name)' is not fixed; give it with --input-shape \(vi.name)=…")
            }
            let n = shape.reduce(1, *)
            let dtype = graph.dtypes[vi.name] ?? vi.elementType ?? .float
            if dtype.isFloatingPoint {
                if let b = domain?.bounds[vi.name], b.count == n, b.isFinite {
                    feeds[vi.name] = Value(shape: shape, data: (0..<n).map { b.lo[$0] + Float(rng.uniform()) * (b.hi[$0] - b.lo[$0]) })
                } else {
                    feeds[vi.name] = Value(shape: shape, data: (0..<n).map { _ in range.lowerBound + Float(rng.uniform()) * (range.upperBound - range.lowerBound) })
                }
                continue
            }
            if dtype == .bool {
                feeds[vi.name] = Value(shape: shape, data: [Float](repeating: 1, count: n), dtype: .bool)
                continue
            }
            if domain?.sources[vi.name] != .dtype, let b = domain?.bounds[vi.name], b.count == n, b.isFinite {
                // A declared range overrides the defaults: integers uniform in [lo, hi].
                feeds[vi.name] = Value(shape: shape, data: (0..<n).map { j in
                    let lo = b.lo[j].rounded(.up), hi = b.hi[j].rounded(.down)
                    return hi <= lo ? lo : min(hi, lo + Float(Int(rng.uniform() * Double(hi - lo + 1))))
                }, dtype: dtype)
                continue
            }
            if vi.name.lowercased().contains("mask") {
                feeds[vi.name] = Value(shape: shape, data: [Float](repeating: 1, count: n), dtype: dtype)
                continue
            }
            if let rows = tableRows(graph, vi.name) {
                feeds[vi.name] = Value(shape: shape, data: (0..<n).map { _ in Float(Int(rng.uniform() * Double(rows)) % max(rows, 1)) }, dtype: dtype)
                continue
            }
            feeds[vi.name] = Value(shape: shape, data: [Float](repeating: 0, count: n), dtype: dtype)
        }
        return feeds
    }

    /// The default that ``make(graph:inputs:skip:seed:index:range:domain:)`` applies to `input`, in words.
    public static func describe(graph: ModelGraph, input vi: ValueInfo, range: ClosedRange<Float>, domain: InputDomain?) -> String {
        let dtype = graph.dtypes[vi.name] ?? vi.elementType ?? .float
        let declared = domain?.sources[vi.name] != .dtype && (domain?.bounds[vi.name].map { $0.isFinite } ?? false)
        if dtype.isFloatingPoint {
            return declared ? "synthetic, uniform in its --input-range" : "synthetic, uniform in [\(range.lowerBound), \(range.upperBound)]"
        }
        if dtype == .bool { return "synthetic, all true" }
        if declared { return "synthetic integers, uniform in its --input-range" }
        if vi.name.lowercased().contains("mask") { return "synthetic, ones (nothing masked)" }
        if let rows = tableRows(graph, vi.name) { return "synthetic ids, uniform in [0, \(rows))" }
        return "synthetic, zeros"
    }

    /// The number of rows of the table an integer input indexes (through Cast/Unsqueeze/Reshape
    /// nodes into a Gather's indices, or a OneHot's depth), if any.
    static func tableRows(_ graph: ModelGraph, _ input: String) -> Int? {
        var frontier = [input]
        var seen = Set<String>()
        while let t = frontier.popLast() {
            guard seen.insert(t).inserted, seen.count < 64 else { continue }
            for c in graph.consumers[t] ?? [] {
                let n = graph.graph.nodes[c]
                if n.opType == "Gather", n.input(1) == t, let table = n.input(0), let shape = graph.constants[table]?.dims ?? graph.shapes[table],
                   let axis = Shapes.axis(n.int("axis") ?? 0, rank: shape.count) {
                    return shape[axis]
                }
                if n.opType == "OneHot", n.input(0) == t, let depth = n.input(1).flatMap({ graph.constants[$0] })?.doubles().first,
                   depth.isFinite, depth >= 1, depth < 1e9 {
                    return Int(depth)
                }
                // A one-hot written as Equal(ids, iota) (jax2tf): the ids range over the iota's values.
                if n.opType == "Equal", let other = n.inputs.first(where: { $0 != t }), let c = graph.constants[other] {
                    let v = c.doubles()
                    if let lo = v.min(), let hi = v.max(), lo == 0, hi >= 1, hi < 1e9, v.count > 1 { return Int(hi) + 1 }
                }
                if ["Cast", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Identity", "Expand"].contains(n.opType), let o = n.outputs.first {
                    frontier.append(o)
                }
            }
        }
        return nil
    }
}
