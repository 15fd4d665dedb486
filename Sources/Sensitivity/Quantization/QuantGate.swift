/// The quantization gate (`kappa check --weights S --activations S --max-error E`): a model
/// passes when the gated output error ‖f_Q(x) − f(x)‖₂ is known and ≤ E. Static: the sound
/// bound of ``QuantAnalysis`` over the input domain (no domain or an unbounded node fails:
/// nothing can be certified). Measured (with inputs): the largest error over the inputs.
public enum QuantGate {
    public enum Basis: String, Sendable, Codable { case `static`, measured }

    public struct Outcome: Sendable, Equatable, Codable {
        public var basis: Basis
        public var maxError: Double
        /// The gated error (nil: unbounded / unknown).
        public var value: Double?
        public var passed: Bool
        public var finding: Finding?

        enum CodingKeys: String, CodingKey {
            case basis, value, passed, finding
            case maxError = "max_error"
        }
    }

    public static func evaluate(bound: Double?, measured: Double?, maxError: Double, scheme: String) -> Outcome {
        if let measured {
            let ok = measured <= maxError
            return Outcome(basis: .measured, maxError: maxError, value: measured, passed: ok,
                           finding: ok ? nil : Finding(.quantErrorOverBudget, "\(scheme): the measured output error \(NumberText.value(measured)) exceeds --max-error \(NumberText.value(maxError))"))
        }
        guard let bound, bound.isFinite else {
            return Outcome(basis: .static, maxError: maxError, value: nil, passed: false,
                           finding: Finding(.quantErrorOverBudget, "\(scheme): the output error cannot be bounded (\(bound == nil ? "no input domain: declare one with --input-range, or measure with --inputs/--synthetic" : "an unbounded node")), so --max-error \(NumberText.value(maxError)) is not certified"))
        }
        let ok = bound <= maxError
        return Outcome(basis: .static, maxError: maxError, value: bound, passed: ok,
                       finding: ok ? nil : Finding(.quantErrorOverBudget, "\(scheme): the sound bound \(NumberText.value(bound)) on the output error exceeds --max-error \(NumberText.value(maxError))"))
    }
}
