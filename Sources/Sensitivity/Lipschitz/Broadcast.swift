import ONNX

/// Broadcasting in the Lipschitz rules (numpy semantics; DESIGN.md §1.3).
///
/// A broadcast operand a of shape s_a in an output of shape s_o is copied: each element a_j
/// feeds its *fiber* α⁻¹(j), the output elements that read it. Then
/// - a sum y = Σ_k a_k (Add/Sub/Sum/Mean/Max/Min): ‖δ broadcast(a)‖ = √m·‖δa‖ with the
///   multiplicity m = numel(s_o)/numel(s_a) (every fiber has m elements), so each operand's
///   gain is √m_k (×1/n for Mean). The rule without √m is unsound: y = x + ReduceMean(x) over
///   K elements is (I + 11ᵀ/K)x with Lipschitz constant 2, not 1 + 1/√K.
/// - a product with a constant, y = x ⊙ c (Mul; Div uses 1/c): ‖δy‖² = Σ_j δx_j²·Σ_{i∈α⁻¹(j)} c_{β(i)}²,
///   so L = max_j √(Σ_{i∈α⁻¹(j)} c_{β(i)}²), the largest fiber norm of c. It is max|c| when x
///   is not broadcast (each fiber is one element) and ‖c‖₂ when x is a scalar; inside one fiber
///   the index β into c is injective (the fiber varies only along axes where x has extent 1
///   and the output does not, and there c has the full extent), so ‖c‖₂ bounds it always —
///   the fallback when the shapes are unknown. (Derivation and a numpy check of 1,600 random
///   broadcast patterns: Lemma B of the development notes; the tests check it against dense
///   Jacobians.)
enum Broadcast {
    /// √(numel(output)/numel(operand)), or nil when a shape is unknown or does not broadcast.
    static func gain(operand: [Int]?, output: [Int]?) -> Double? {
        guard let operand, let output, let b = Shapes.broadcast(operand, output), b == output,
              let no = Shapes.checkedProduct(output), let na = Shapes.checkedProduct(operand) else { return nil }
        if no == 0 || na == 0 { return 0 }
        return (Double(no) / Double(na)).squareRoot()
    }

    /// The largest fiber norm of the constant `weights` (shape `weightShape`) over the elements
    /// of a variable operand of shape `variable` (see the type's description); ‖weights‖₂ when
    /// the variable's shape is unknown or the output too large to walk.
    static func fiberNorm(variable: [Int]?, weights: [Double], weightShape: [Int]) -> Double {
        let frobenius = weights.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let maxAbs = weights.reduce(0) { Swift.max($0, abs($1)) }
        if weights.count <= 1 { return maxAbs }
        guard let v = variable, let out = Shapes.broadcast(v, weightShape),
              let count = Shapes.checkedProduct(out), count <= 1 << 26 else { return frobenius }
        if out == v { return maxAbs }
        var sums = [Double](repeating: 0, count: Shapes.checkedProduct(v) ?? 0)
        guard !sums.isEmpty else { return 0 }
        Shapes.forEachBroadcastPair(v, weightShape, to: out) { _, iv, iw in
            sums[iv] += weights[iw] * weights[iw]
        }
        return sums.max().map { $0.squareRoot() } ?? frobenius
    }
}
