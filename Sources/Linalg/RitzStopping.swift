// The stopping rule shared by the three Lanczos engines.

/// When a Lanczos engine (`GramLanczos`, `BlockGramLanczos`, `GolubKahanLanczos`) may stop: the
/// relative change δ_k of the Ritz value is ≤ tolerance, the change still to come, extrapolated
/// geometrically (Aitken) as δ_k·r/(1 − r) with r = δ_k/δ_{k−1}, is ≤ tolerance too, and the
/// relative residual of the top Ritz pair is ≤ ``residualTolerance(_:)``. The engines differ in
/// how they obtain δ_k and the residual, not in the rule.
enum RitzStopping {
    /// 100·tolerance clamped to [1e-5, 1e-2], i.e. 1e-4 by default. The floor stays above the
    /// noise that float32 products leave in the residual.
    static func residualTolerance(_ tolerance: Double) -> Double { min(1e-2, max(1e-5, 100 * tolerance)) }

    static func converged(change: Double, previousChange: Double, residual: Double, tolerance: Double) -> Bool {
        let r = previousChange > 0 ? change / previousChange : 1
        let remaining = change == 0 ? 0 : (r < 1 ? change * r / (1 - r) : .infinity)
        return change <= tolerance && remaining <= tolerance && residual <= residualTolerance(tolerance)
    }
}
