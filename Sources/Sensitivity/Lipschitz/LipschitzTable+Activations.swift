import Foundation
import ONNX

/// Pointwise activations: L = sup |φ'| of the scalar function (DESIGN.md §1.2).
extension LipschitzTable {
    /// sup of d/dx [x·σ(x)] = σ(x)(1 + x(1 − σ(x))), attained near x ≈ 2.3994: 1.0998…
    /// (rounded up), the SiLU/Swish constant.
    public static let siluConstant = 1.0999
    /// sup |GELU'(x)| = sup |Φ(x) + x·φ(x)| = 1.1289041… at x = √2 (rounded up); the tanh
    /// approximation's is 1.1289931… at x ≈ 1.4185, also below it.
    public static let geluConstant = 1.1290
    /// sup |erf'| = 2/√π = 1.1283791… (rounded up).
    public static let erfConstant = 1.12838
    /// sup |d/du (u·erf(u))| = sup |erf(u) + (2/√π)·u·e^{−u²}| = 2·sup GELU' − 1 = 1.2578083…
    /// (since u·erf(u) = 2u·Φ(√2u) − u), rounded up.
    public static let uErfConstant = 1.2579
    /// sup |Mish'(x)|, Mish(x) = x·tanh(softplus(x)): 1.0884981… at x ≈ 1.4906 (rounded up).
    public static let mishConstant = 1.0885

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
            // Exact (erf) and tanh approximations: sup |d/dx| is 1.12890 and 1.12899.
            return .lipschitz(x, geluConstant)
        case "Erf":
            return .lipschitz(x, erfConstant, "sup |erf'| = 2/√π")
        case "Mish":
            return .lipschitz(x, mishConstant, "sup |d/dx x·tanh(softplus(x))|")
        case "Celu":
            // x for x ≥ 0, α(exp(x/α) − 1) below: slopes in (0, 1].
            return .lipschitz(x, 1)
        case "PRelu":
            // x ≥ 0: 1; x < 0: the slope of the element's channel (slope broadcast to x).
            guard let slope = ctx.constant(n.input(1)), n.input(0) == x else {
                return .needsDomain(ctx.variableInputs(n), "PRelu with a slope computed at run time")
            }
            let m = (0..<slope.count).reduce(1.0) { max($0, abs(slope.double(at: $1))) }
            return .lipschitz(x, m, "max(1, max|slope|)")
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
