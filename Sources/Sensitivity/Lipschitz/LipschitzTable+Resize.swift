import Foundation
import ONNX

/// Resize/Upsample: a separable linear map y = (J_1 ⊗ … ⊗ J_r)x, so ‖J‖₂ = Π ‖J_a‖₂ and
/// ‖J_a‖₂ ≤ √(‖J_a‖₁‖J_a‖∞) (max absolute column sum × max absolute row sum).
///
/// The 1-D interpolation matrices are built exactly as ONNX defines them
/// (coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside, edge
/// clamping). For nearest with integer scales s_h, s_w this gives √(s_h·s_w).
extension LipschitzTable {
    static func resize(_ n: Node, _ x: String, _ ctx: GraphContext) -> NodeRule {
        guard n.input(0) == x else { return .unbounded(ctx.variableInputs(n), "\(n.opType) whose scales or sizes depend on the input") }
        guard let inShape = ctx.shape(x), let out = n.outputs.first, let outShape = ctx.shape(out),
              inShape.count == outShape.count else {
            return .unbounded([x], "\(n.opType) with unknown input or output shape (give --input-shape)")
        }
        if n.int("antialias") == 1 && zip(inShape, outShape).contains(where: { $1 < $0 }) {
            return .unbounded([x], "antialiased downsampling is not in the table")
        }
        let mode = n.string("mode") ?? "nearest"
        let defaultCoord = n.opType == "Upsample" || (ctx.graph.model.opsets[""] ?? 11) < 11 ? "asymmetric" : "half_pixel"
        let coord = n.string("coordinate_transformation_mode") ?? defaultCoord
        if coord == "tf_crop_and_resize" { return .unbounded([x], "Resize tf_crop_and_resize is not in the table") }
        var l = 1.0
        for a in 0..<inShape.count where inShape[a] != outShape[a] || coord == "align_corners" {
            let (col, row) = axisSums(inCount: inShape[a], outCount: outShape[a], mode: mode, coord: coord,
                                      nearestMode: n.string("nearest_mode") ?? "round_prefer_floor",
                                      cubicA: Double(n.float("cubic_coeff_a") ?? -0.75),
                                      excludeOutside: n.int("exclude_outside") == 1)
            l *= (col * row).squareRoot()
        }
        return .lipschitz(x, l, "Π √(‖J_a‖₁‖J_a‖∞), mode \(mode)")
    }

    /// Max absolute column sum and max absolute row sum of the 1-D resize matrix.
    static func axisSums(inCount: Int, outCount: Int, mode: String, coord: String, nearestMode: String,
                         cubicA: Double, excludeOutside: Bool) -> (Double, Double) {
        guard inCount > 0, outCount > 0 else { return (0, 0) }
        let s = Double(outCount) / Double(inCount)
        var cols = [Double](repeating: 0, count: inCount)
        var maxRow = 0.0
        for j in 0..<outCount {
            let xr = Double(j)
            var xo: Double
            switch coord {
            case "asymmetric": xo = xr / s
            case "align_corners": xo = outCount == 1 ? 0 : xr * Double(inCount - 1) / Double(outCount - 1)
            case "pytorch_half_pixel": xo = outCount > 1 ? (xr + 0.5) / s - 0.5 : 0
            case "tf_half_pixel_for_nn": xo = (xr + 0.5) / s
            default: xo = (xr + 0.5) / s - 0.5
            }
            var taps: [(Int, Double)] = []
            switch mode {
            case "linear", "bilinear", "trilinear":
                let clamped = min(max(xo, 0), Double(inCount - 1))
                let i0 = Int(clamped.rounded(.down))
                let t = clamped - Double(i0)
                taps = [(i0, 1 - t), (min(i0 + 1, inCount - 1), t)]
            case "cubic":
                let i0 = Int(xo.rounded(.down))
                let t = xo - Double(i0)
                func w(_ d: Double) -> Double {
                    let ad = abs(d)
                    if ad <= 1 { return (cubicA + 2) * ad * ad * ad - (cubicA + 3) * ad * ad + 1 }
                    if ad < 2 { return cubicA * ad * ad * ad - 5 * cubicA * ad * ad + 8 * cubicA * ad - 4 * cubicA }
                    return 0
                }
                var raw = [(i0 - 1, w(1 + t)), (i0, w(t)), (i0 + 1, w(1 - t)), (i0 + 2, w(2 - t))]
                if excludeOutside {
                    raw = raw.filter { $0.0 >= 0 && $0.0 < inCount }
                    let total = raw.reduce(0) { $0 + $1.1 }
                    if total != 0 { raw = raw.map { ($0.0, $0.1 / total) } }
                }
                taps = raw.map { (min(max($0.0, 0), inCount - 1), $0.1) }
            default:
                var r: Double
                switch nearestMode {
                case "floor": r = xo.rounded(.down)
                case "ceil": r = xo.rounded(.up)
                case "round_prefer_ceil": r = (xo + 0.5).rounded(.down)
                default: r = xo == xo.rounded(.down) + 0.5 ? xo.rounded(.down) : xo.rounded()
                }
                taps = [(min(max(Int(r), 0), inCount - 1), 1)]
            }
            var row = 0.0
            for (i, w) in taps { cols[i] += abs(w); row += abs(w) }
            maxRow = max(maxRow, row)
        }
        return (cols.max() ?? 0, maxRow)
    }
}
