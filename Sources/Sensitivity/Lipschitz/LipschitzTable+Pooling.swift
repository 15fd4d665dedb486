import Foundation
import ONNX

/// Pooling and reductions (DESIGN.md §1.2).
///
/// - MaxPool: each output copies one element of its window and one element lies in at most
///   c windows, so ‖δy‖² ≤ Σ_w max_{i∈w} δᵢ² ≤ c‖δx‖²: L = √c (1 without overlap).
/// - AveragePool: ‖J‖∞ ≤ 1 (row sums are in-bounds count / divisor) and ‖J‖₁ ≤ c / K_min,
///   so ‖J‖₂ ≤ √(‖J‖₁‖J‖∞) = √(c / K_min).
/// - GlobalAveragePool over H·W and ReduceMean over K: 1/√K; ReduceSum and ReduceL1: √K;
///   ReduceMax/ReduceMin/GlobalMaxPool/ReduceL2: 1.
extension LipschitzTable {
    static func pooling(_ n: Node, _ x: String, _ ctx: GraphContext) -> NodeRule? {
        switch n.opType {
        case "MaxPool", "AveragePool":
            guard let k = n.ints("kernel_shape") else { return .unbounded([x], "\(n.opType) without kernel_shape") }
            let strides = n.ints("strides") ?? Array(repeating: 1, count: k.count)
            let dilations = n.ints("dilations") ?? Array(repeating: 1, count: k.count)
            var c = WindowCounts.closedForm(kernel: k, strides: strides, dilations: dilations)
            var kMin = 1
            let includePad = n.int("count_include_pad") == 1
            if let s = ctx.shape(x), s.count == k.count + 2,
               let g = try? WindowGeometry.resolve(node: n, input: Array(s[2...]), kernel: k,
                                                   ceilMode: n.int("ceil_mode") == 1, path: ctx.path) {
                c = WindowCounts.maxOverlap(g)
                kMin = WindowCounts.minWindowSize(g, includePad: includePad)
            } else if n.ints("pads") == nil, (n.string("auto_pad") ?? "NOTSET") == "NOTSET", n.int("ceil_mode") != 1 {
                kMin = k.reduce(1, *)
            }
            if n.opType == "MaxPool" {
                return .lipschitz(x, Double(c).squareRoot(), "√c, c = \(c)")
            }
            return .lipschitz(x, (Double(c) / Double(max(kMin, 1))).squareRoot(), "√(c/K_min), c = \(c), K_min = \(kMin)")
        case "GlobalMaxPool", "ReduceMax", "ReduceMin", "ReduceL2":
            return .lipschitz(x, 1)
        case "GlobalAveragePool":
            guard let s = ctx.shape(x), s.count >= 3 else { return .lipschitz(x, 1, "1/√(H·W) ≤ 1 (shape unknown)") }
            let hw = s[2...].reduce(1, *)
            return .lipschitz(x, 1 / Double(max(hw, 1)).squareRoot(), "1/√(H·W), H·W = \(hw)")
        case "ReduceLogSumExp":
            // ∇ of one output is the softmax of its slice: ‖∇‖₂ ≤ ‖p‖₂ ≤ 1; slices are disjoint.
            return .lipschitz(x, 1, "log-sum-exp: the gradient is a softmax vector")
        case "CumSum":
            // The lower-triangular all-ones K×K matrix T_K: T_K⁻¹ = I − S, and (I − S)ᵀ(I − S) has
            // the eigenvalues 4 sin²((2m+1)π/(2(2K+1))), m = 0…K−1, so ‖T_K‖₂ = 1/(2 sin(π/(4K+2)))
            // (1 for K = 1, the golden ratio for K = 2, ≈ (2K+1)/π for large K, which is a lower
            // bound only); exclusive: the value for K − 1; reverse: the same.
            guard let s = ctx.shape(x), let axisValue = ctx.scalar(n.input(1)),
                  let a = Shapes.axis(Int(axisValue), rank: s.count) else {
                return .unbounded([x], "CumSum over an axis of unknown length or a computed axis")
            }
            let k = s[a] - (n.int("exclusive") == 1 ? 1 : 0)
            guard k >= 1 else { return NodeRule.independent }
            let l = 1 / (2 * sin(Double.pi / Double(4 * k + 2)))
            return .lipschitz(x, l * (1 + 1e-12), "‖lower-triangular ones K×K‖₂ = 1/(2 sin(π/(4K+2))), K = \(k)")
        case "ReduceMean", "ReduceSum", "ReduceL1":
            let k = reducedCount(n, x, ctx)
            if n.opType == "ReduceMean" {
                guard let k else { return .lipschitz(x, 1, "1/√K ≤ 1 (shape unknown)") }
                return .lipschitz(x, 1 / Double(max(k, 1)).squareRoot(), "1/√K, K = \(k)")
            }
            guard let k else { return .unbounded([x], "\(n.opType) over an unknown number of elements") }
            return .lipschitz(x, Double(max(k, 1)).squareRoot(), "√K, K = \(k)")
        default:
            return nil
        }
    }

    /// Number of elements each output of a Reduce* node sums over.
    static func reducedCount(_ n: Node, _ x: String, _ ctx: GraphContext) -> Int? {
        guard let s = ctx.shape(x) else { return nil }
        let axes = n.ints("axes") ?? ctx.constant(n.input(1))?.int64s().map { Int($0) }
        if axes == nil || axes?.isEmpty == true {
            if n.int("noop_with_empty_axes") == 1 { return 1 }
            if n.input(1) != nil && axes == nil { return nil }
            return s.reduce(1, *)
        }
        var k = 1
        for a in Set((axes ?? []).compactMap({ Shapes.axis($0, rank: s.count) })) { k *= s[a] }
        return k
    }
}
