import Foundation

/// The bracket [ℓ, L] of the Lipschitz constant on an input domain (DESIGN.md §1.8): L is the
/// sound Eq. 7 with the domain rules (the operator column), ℓ the largest certified local
/// Jacobian norm the reference engine found at points of the domain.
public struct Bracket: Sendable, Equatable {
    public struct Lower: Sendable, Equatable {
        public var value: Double
        /// Where ℓ was found.
        public var point: String
        public var reversePasses: Int
        public var forwardPasses: Int
        public var seconds: Double
        /// The perturbed tensor the search moved in.
        public var tensor: String

        public init(value: Double, point: String, reversePasses: Int, forwardPasses: Int, seconds: Double, tensor: String) {
            self.value = value
            self.point = point
            self.reversePasses = reversePasses
            self.forwardPasses = forwardPasses
            self.seconds = seconds
            self.tensor = tensor
        }
    }

    /// One line per input: its range and where it came from.
    public var domain: [String]
    /// Whether any range was only observed on data (`--inputs`), not declared.
    public var empirical: Bool
    /// L: the sound Eq. 7 bound on the domain.
    public var upper: Double
    /// ℓ, when the search ran.
    public var lower: Lower?

    public init(domain: [String], empirical: Bool, upper: Double, lower: Lower?) {
        self.domain = domain
        self.empirical = empirical
        self.upper = upper
        self.lower = lower
    }

    /// log₁₀(L/ℓ): how many orders of magnitude the certified bound may be above the truth.
    public var widthOrders: Double? {
        guard let l = lower?.value, l > 0, upper.isFinite else { return nil }
        return log10(upper / l)
    }
}
