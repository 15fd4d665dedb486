import Foundation
import ONNX

/// Pointwise activations: L = sup |φ'| of the scalar function (DESIGN.md §1.2).
extension LipschitzTable {
    /// sup of d/dx [x·σ(x)] = σ(x)(1 + x(1 − σ(x))), attained near x ≈ 2.3994: 1.0998…
    /// (rounded up), the SiLU/Swish constant.
    public static let siluConstant = 1.0999
    /// sup |GELU'(x)| = sup |Φ(x) + x·φ(x)| ≈ 1.12837 at x = √2 (rounded up).
    public static let geluConstant = 1.1290

    static func activation(_ n: Node, _ x: String, _ ctx: GraphContext) -> NodeRule? {
        switch n.opType {
        case "Relu", "Tanh", "Softplus", "Softsign":
            return .lipschitz(x, 1)
        case "Clip":
            return .lipschitz(x, 1)
        case "LeakyRelu":
            let a = Double(n.float("alpha") ?? 0.01)
            return .lipschitz(x, max(1, abs(a)), "max(1, |α|), α = \(a)")
        case "Elu":
            let a = Double(n.float("alpha") ?? 1)
            return .lipschitz(x, max(1, a), "max(1, α), α = \(a)")
        case "Selu":
            let a = Double(n.float("alpha") ?? 1.67326319217681884765625)
            let g = Double(n.float("gamma") ?? 1.05070102214813232421875)
            return .lipschitz(x, g * max(1, a), "γ·max(1, α)")
        case "Sigmoid":
            return .lipschitz(x, 0.25)
        case "HardSigmoid":
            let a = Double(n.float("alpha") ?? 0.2)
            return .lipschitz(x, abs(a), "|α|, α = \(a)")
        case "HardSwish":
            // x·max(0, min(1, x/6 + 1/2)): max(1, 2 − β, β) with β = 1/2.
            return .lipschitz(x, 1.5, "x·HardSigmoid(x), β = 0.5")
        case "Gelu":
            return .lipschitz(x, geluConstant)
        case "Softmax":
            // J = diag(p) − ppᵀ is symmetric PSD with uᵀJu = Var_p(u) for a unit u (the
            // variance of the variable taking u_i with probability p_i); by Popoviciu,
            // Var ≤ (max u − min u)²/4 ≤ (u_max² + u_min²)/2 ≤ 1/2. Slices along the axis are
            // independent blocks, so L = 1/2 (tight as p → (½, ½, 0, …)).
            return .lipschitz(x, 0.5, "‖diag(p) − ppᵀ‖₂ ≤ 1/2")
        case "LogSoftmax":
            // J = I − 1·pᵀ is the identity on 1⊥ ∩ p⊥; its other two singular values have
            // product 0 (J·1 = 0) and squares summing to K‖p‖², so ‖J‖₂ = √K·‖p‖₂ ≤ √K over an
            // axis of K entries (‖p‖₂ ≤ 1 on the simplex).
            guard let s = ctx.shape(x), let a = Shapes.axis(n.int("axis") ?? -1, rank: s.count) else {
                return .unbounded([x], "LogSoftmax inside the network with an unknown axis size")
            }
            let k = Double(s[a])
            return .lipschitz(x, k.squareRoot(), "√K, K = \(s[a])")
        default:
            return nil
        }
    }
}
