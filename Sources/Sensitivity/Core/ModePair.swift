/// How σ_op of a convolution is obtained (`--norm`): `.matrix` bounds it in closed form by
/// √c·σ_matrix (fast); `.operator` also runs the certified operator-norm computation of each
/// convolution on its real input shape. Both modes fill both columns of ``ModePair``.
public enum NormMode: String, Sendable, CaseIterable, Codable {
    case matrix
    case `operator`
}

/// A value in the two columns every report shows, named the same in the code, the JSON and
/// the text (DESIGN.md §1.3):
/// - `matrix`: computed with the reshaped weight matrices' spectral norms σ_matrix — the
///   paper's estimator (not a guaranteed bound for convolutions);
/// - `operator`: computed with the certified upper ends of the operator norms σ_op — the
///   sound bound.
public struct ModePair: Sendable, Equatable {
    public var matrix: Double
    public var `operator`: Double

    public init(matrix: Double, operator op: Double) {
        self.matrix = matrix
        self.operator = op
    }

    public init(_ both: Double) { self.init(matrix: both, operator: both) }

    public static let zero = ModePair(0)
    public static let one = ModePair(1)
    public static let unbounded = ModePair(.infinity)

    public subscript(column: NormMode) -> Double { column == .matrix ? matrix : self.operator }

    public func map(_ f: (Double) -> Double) -> ModePair { ModePair(matrix: f(matrix), operator: f(self.operator)) }

    public static func + (a: ModePair, b: ModePair) -> ModePair {
        ModePair(matrix: a.matrix + b.matrix, operator: a.operator + b.operator)
    }

    /// Product where 0 · ∞ = 0: a tensor that does not depend on the input (gain 0)
    /// contributes nothing, whatever the node does to it.
    public static func * (a: ModePair, b: ModePair) -> ModePair {
        ModePair(matrix: safeProduct(a.matrix, b.matrix), operator: safeProduct(a.operator, b.operator))
    }

    /// Column-wise maximum.
    public static func max(_ a: ModePair, _ b: ModePair) -> ModePair {
        ModePair(matrix: Swift.max(a.matrix, b.matrix), operator: Swift.max(a.operator, b.operator))
    }

    public var isFinite: Bool { matrix.isFinite && self.operator.isFinite }
    public var isOne: Bool { matrix == 1 && self.operator == 1 }
}

@inlinable
func safeProduct(_ a: Double, _ b: Double) -> Double { a == 0 || b == 0 ? 0 : a * b }
