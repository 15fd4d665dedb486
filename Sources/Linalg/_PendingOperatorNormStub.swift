// TEMPORARY stand-in for `OperatorNorm` (branch `linalg` has not delivered it yet): plain
// power iteration on AᵀA through ConvOperator; upper = max(√c·σ_matrix, lower). Deleted when
// the real OperatorNorm lands.
import Foundation

public struct OperatorNormEstimate: Sendable, Equatable {
    public var lower: Double, upper: Double, iterations: Int, achievedTolerance: Double
    public init(lower: Double, upper: Double, iterations: Int, achievedTolerance: Double) {
        self.lower = lower; self.upper = upper; self.iterations = iterations; self.achievedTolerance = achievedTolerance
    }
}

public enum OperatorNorm {
    public static func convolution(_ op: ConvOperator, matrixSigma: Double, options: SpectralOptions = .init()) -> OperatorNormEstimate {
        var v = (0..<op.geometry.inputCount).map { Float((($0 &* 2654435761) % 1000)) / 1000 + 0.1 }
        var lower = 0.0, it = 0, tol = 1.0
        while it < options.maxIterations {
            it += 1
            let nv = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            guard nv > 0 else { break }
            v = v.map { Float(Double($0) / nv) }
            let u = op.apply(v)
            let s = u.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            tol = abs(s - lower) / max(s, 1e-300)
            lower = max(lower, s)
            v = op.adjoint(u)
            if tol < options.tolerance { break }
        }
        let upper = Double(op.geometry.overlapCount).squareRoot() * matrixSigma
        return OperatorNormEstimate(lower: lower, upper: max(upper, lower), iterations: it, achievedTolerance: tol)
    }
}
