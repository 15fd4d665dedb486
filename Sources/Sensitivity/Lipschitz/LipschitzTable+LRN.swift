import Foundation
import ONNX

/// Local response normalisation, y_c = x_c / (k + (α/n)·Σ_{c'∈W(c)} x_{c'}²)^β over a
/// window W(c) of n channels.
///
/// With D = k + (α/n)Σ x² ≥ k and u_c = (α/n)x_c² ≤ D − k:
/// - diagonal: ∂y_c/∂x_c = D^{−β}(1 − 2β·u_c/D), so |·| ≤ k^{−β}·max(1, 2β − 1);
/// - off-diagonal: |∂y_c/∂x_{c'}| = 2β√(u_c u_{c'})·D^{−β−1} ≤ β(D − k)D^{−β−1}, maximal at
///   D = k(β+1)/β, giving k^{−β}·(β/(β+1))^{β+1};
/// - each row and column has at most n − 1 off-diagonal entries, so ‖J‖₁ and ‖J‖∞ are both
///   at most the constant below and ‖J‖₂ ≤ √(‖J‖₁‖J‖∞) is too (1.91 for AlexNet's LRN).
/// The bound does not depend on α. DESIGN.md §1.2.
extension LipschitzTable {
    public static func lrnConstant(size n: Int, beta: Double, bias k: Double) -> Double {
        guard k > 0, beta >= 0 else { return .infinity }
        let off = beta == 0 ? 0 : pow(beta / (beta + 1), beta + 1)
        return pow(k, -beta) * (max(1, 2 * beta - 1) + Double(max(n - 1, 0)) * off)
    }

    static func lrn(_ n: Node, _ x: String) -> NodeRule {
        let size = n.int("size") ?? 1
        let beta = Double(n.float("beta") ?? 0.75)
        let bias = Double(n.float("bias") ?? 1)
        let l = lrnConstant(size: size, beta: beta, bias: bias)
        guard l.isFinite else { return .unbounded([x], "LRN with bias \(bias) ≤ 0 or β < 0 has no finite bound") }
        return .lipschitz(x, l, "k^−β·(max(1, 2β−1) + (n−1)(β/(β+1))^(β+1)), n = \(size), β = \(beta), k = \(bias)")
    }
}
