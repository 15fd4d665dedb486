/// How the network bounds are computed (DESIGN.md §1.3): with the reshaped weight
/// matrices' spectral norms σ_matrix — the paper's estimator — or with the operator
/// norms' certified upper bounds σ_op — a guaranteed (sound) bound.
public enum NormMode: String, Sendable, CaseIterable, Codable {
    case matrix
    case `operator`
}

/// A value under both modes: `matrix` (σ_matrix, the paper) and `sound` (σ_op upper).
public struct ModePair: Sendable, Equatable {
    public var matrix: Double
    public var sound: Double

    public init(matrix: Double, sound: Double) {
        self.matrix = matrix
        self.sound = sound
    }

    public init(_ both: Double) { self.init(matrix: both, sound: both) }

    public static let zero = ModePair(0)
    public static let one = ModePair(1)
    public static let unbounded = ModePair(.infinity)

    public subscript(mode: NormMode) -> Double { mode == .matrix ? matrix : sound }

    public func map(_ f: (Double) -> Double) -> ModePair { ModePair(matrix: f(matrix), sound: f(sound)) }

    public static func + (a: ModePair, b: ModePair) -> ModePair {
        ModePair(matrix: a.matrix + b.matrix, sound: a.sound + b.sound)
    }

    /// Product where 0 · ∞ = 0: a tensor that does not depend on the input (gain 0)
    /// contributes nothing, whatever the node does to it.
    public static func * (a: ModePair, b: ModePair) -> ModePair {
        ModePair(matrix: safeProduct(a.matrix, b.matrix), sound: safeProduct(a.sound, b.sound))
    }

    public var isFinite: Bool { matrix.isFinite && sound.isFinite }
    public var isOne: Bool { matrix == 1 && sound == 1 }
}

@inlinable
func safeProduct(_ a: Double, _ b: Double) -> Double { a == 0 || b == 0 ? 0 : a * b }
