import Foundation
import ONNX

/// One activation function of an ONNX LSTM/GRU/RNN (the `activations` attribute) with its
/// parameters, and its constants on an interval (recurrent.md §2).
struct RecurrentActivation: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable {
        case sigmoid, tanh, relu, affine, leakyrelu, thresholdedrelu, scaledtanh, hardsigmoid, elu, softsign, softplus

        var takesAlpha: Bool { [.affine, .leakyrelu, .thresholdedrelu, .scaledtanh, .hardsigmoid, .elu].contains(self) }
        var takesBeta: Bool { [.affine, .scaledtanh, .hardsigmoid].contains(self) }
    }

    var kind: Kind
    var alpha: Double
    var beta: Double
    /// The name as written in the file (for messages).
    var name: String

    init(_ kind: Kind, alpha: Double = 0, beta: Double = 0, name: String? = nil) {
        self.kind = kind
        self.alpha = alpha
        self.beta = beta
        self.name = name ?? kind.rawValue
    }

    static let sigmoid = RecurrentActivation(.sigmoid, name: "Sigmoid")
    static let tanh = RecurrentActivation(.tanh, name: "Tanh")

    /// φ(u) (used for the range endpoints; the ONNX definitions).
    func value(_ u: Double) -> Double {
        switch kind {
        case .sigmoid: return u >= 0 ? 1 / (1 + exp(-u)) : exp(u) / (1 + exp(u))
        case .tanh: return Foundation.tanh(u)
        case .relu: return max(u, 0)
        case .affine: return alpha * u + beta
        case .leakyrelu: return u >= 0 ? u : alpha * u
        case .thresholdedrelu: return u > alpha ? u : 0
        case .scaledtanh: return alpha * Foundation.tanh(beta * u)
        case .hardsigmoid: return min(max(alpha * u + beta, 0), 1)
        case .elu: return u >= 0 ? u : alpha * expm1(u)
        case .softsign: return u / (1 + abs(u))
        case .softplus: return u > 30 ? u + log1p(exp(-u)) : log1p(exp(u))
        }
    }
}

/// Constants of an activation φ on D = [−w, w] (w = +∞: D = ℝ), recurrent.md §2:
/// `lip` = Lip_D(φ), `[lo, hi]` ⊇ φ(D). The range ends are rounded outward (a few ulps, then
/// clamped to the function's mathematical range) so that the floating-point values of φ at the
/// ends cannot make them too narrow.
struct ActivationBounds: Sendable, Equatable {
    var lip: Double
    var lo: Double
    var hi: Double

    /// sup |φ| over D (F0, G0, H0 of recurrent.md).
    var sup: Double { max(abs(lo), abs(hi)) }
    /// sup |1 − φ| over D (Z1).
    var oneMinusSup: Double { max(abs(1 - lo), abs(1 - hi)) }
    /// "Gates in [0, 1]" (Lemma 3 applies).
    var inUnitInterval: Bool { lo >= 0 && hi <= 1 }
    var isFinite: Bool { lip.isFinite && lo.isFinite && hi.isFinite }

    /// The hull of two readings (sound for both).
    func union(_ o: ActivationBounds) -> ActivationBounds {
        ActivationBounds(lip: max(lip, o.lip), lo: min(lo, o.lo), hi: max(hi, o.hi))
    }
}

extension RecurrentActivation {
    /// Lip and range of φ on [−w, w] (w ≥ 0, +∞ for ℝ), or nil when φ is discontinuous there
    /// (ThresholdedRelu with α ≠ 0 whose threshold lies in the domain: a jump of size |α|, no
    /// Lipschitz constant; recurrent.md §8.3). Every φ here is monotone, or |φ| is monotone on
    /// [−w, 0] and [0, w], so the range on [−w, w] is the hull of φ(−w), φ(0), φ(w) (§2's table).
    func bounds(halfWidth w: Double) -> ActivationBounds? {
        let fin = w.isFinite
        func hull(_ pts: [Double], within: ClosedRange<Double> = -Double.infinity...Double.infinity, lip: Double) -> ActivationBounds {
            let v = pts.map(value)
            let lo = (v.min() ?? 0), hi = (v.max() ?? 0)
            return ActivationBounds(lip: lip, lo: max(Self.down(lo), within.lowerBound), hi: min(Self.up(hi), within.upperBound))
        }
        switch kind {
        case .sigmoid:
            return fin ? hull([-w, w], within: 0...1, lip: 0.25) : ActivationBounds(lip: 0.25, lo: 0, hi: 1)
        case .tanh:
            return fin ? hull([-w, w], within: -1...1, lip: 1) : ActivationBounds(lip: 1, lo: -1, hi: 1)
        case .relu:
            return ActivationBounds(lip: 1, lo: 0, hi: fin ? w : .infinity)
        case .affine:
            if alpha == 0 { return ActivationBounds(lip: 0, lo: beta, hi: beta) }
            return fin ? hull([-w, w], lip: Self.up(abs(alpha))) : ActivationBounds(lip: Self.up(abs(alpha)), lo: -.infinity, hi: .infinity)
        case .leakyrelu:
            let l = max(1, abs(alpha))
            if fin { return hull([-w, 0, w], lip: l) }
            return ActivationBounds(lip: l, lo: alpha > 0 ? -.infinity : 0, hi: .infinity)
        case .thresholdedrelu:
            if alpha == 0 { return RecurrentActivation(.relu).bounds(halfWidth: w) }
            if fin && alpha > w { return ActivationBounds(lip: 0, lo: 0, hi: 0) }      // φ ≡ 0 on D
            if fin && alpha < -w { return ActivationBounds(lip: 1, lo: -w, hi: w) }    // φ = id on D
            return nil
        case .scaledtanh:
            let l = Self.up(abs(alpha * beta))
            if fin { return hull([-w, w], within: -abs(alpha)...abs(alpha), lip: l) }
            return beta == 0 ? ActivationBounds(lip: 0, lo: 0, hi: 0) : ActivationBounds(lip: l, lo: -abs(alpha), hi: abs(alpha))
        case .hardsigmoid:
            if alpha == 0 { let c = min(max(beta, 0), 1); return ActivationBounds(lip: 0, lo: c, hi: c) }
            return fin ? hull([-w, w], within: 0...1, lip: abs(alpha)) : ActivationBounds(lip: abs(alpha), lo: 0, hi: 1)
        case .elu:
            let l = max(1, abs(alpha))
            if fin { return hull([-w, 0, w], lip: l) }
            // For u < 0, α(eᵘ − 1) lies between 0 and −α.
            return ActivationBounds(lip: l, lo: min(0, Self.down(-alpha)), hi: .infinity)
        case .softsign:
            return fin ? hull([-w, w], within: -1...1, lip: 1) : ActivationBounds(lip: 1, lo: -1, hi: 1)
        case .softplus:
            // φ' = σ, increasing: Lip on [−w, w] is σ(w).
            if fin { return hull([-w, w], within: 0...Double.infinity, lip: min(1, Self.up(RecurrentActivation.sigmoid.value(w)))) }
            return ActivationBounds(lip: 1, lo: 0, hi: .infinity)
        }
    }

    /// x rounded outward by 4 ulps (the libm functions are within 1–2 ulps).
    static func up(_ x: Double) -> Double { x.isFinite ? x + 4 * x.ulp + Double.leastNonzeroMagnitude : x }
    static func down(_ x: Double) -> Double { x.isFinite ? x - 4 * x.ulp - Double.leastNonzeroMagnitude : x }
}

/// Reading the `activations`, `activation_alpha`, `activation_beta` attributes.
extension RecurrentActivation {
    /// The activations of every direction (`perDirection` each: LSTM 3, GRU 2, RNN 1), each as
    /// the list of its possible readings, or a reason why they cannot be read.
    ///
    /// The parameters are consumed in order by the activations that take one (recurrent.md §1,
    /// checked against onnxruntime). When the list runs out the runtimes disagree (§1, §8.5):
    /// onnxruntime uses LeakyRelu 0.01, HardSigmoid (0.2, 0.5), Elu 1.0 — the standalone ops'
    /// defaults — and 0 for the rest, while the standalone ThresholdedRelu defaults to α = 1.0;
    /// both readings are kept there and the bound uses the hull of their constants (sound for
    /// either; for ThresholdedRelu that means discontinuous, i.e. unbounded). Affine and
    /// ScaledTanh have no standalone default: a missing parameter makes the node unbounded.
    static func parse(_ n: Node, directions: Int, perDirection k: Int, defaults: [RecurrentActivation]) -> Result<[[RecurrentActivation]], RecurrentError> {
        guard case let .strings(names)? = n.attributes["activations"], !names.isEmpty else {
            return .success((0..<directions).flatMap { _ in defaults }.map { [$0] })
        }
        var list = names
        if list.count == k && directions == 2 { list += names }  // one set written for both directions
        guard list.count == k * directions else {
            return .failure(.malformed("activations has \(names.count) entries; \(n.opType) with \(directions) direction(s) needs \(k * directions)"))
        }
        let alphas = (n.floats("activation_alpha") ?? []).map(Double.init)
        let betas = (n.floats("activation_beta") ?? []).map(Double.init)
        var ia = 0, ib = 0
        var out: [[RecurrentActivation]] = []
        for name in list {
            guard let kind = Kind(rawValue: name.lowercased()) else {
                return .failure(.malformed("activation '\(name)' is not one of the ONNX recurrent activations"))
            }
            var alpha: [Double] = [0], beta: [Double] = [0]
            if kind.takesAlpha {
                if ia < alphas.count { alpha = [alphas[ia]] } else { alpha = defaultAlphas(kind) }
                ia += 1
            }
            if kind.takesBeta {
                if ib < betas.count { beta = [betas[ib]] } else { beta = defaultBetas(kind) }
                ib += 1
            }
            guard !alpha.isEmpty, !beta.isEmpty else {
                return .failure(.unbounded("activation \(name) needs activation_alpha/beta values the node does not give (no default is defined)"))
            }
            out.append(alpha.flatMap { a in beta.map { b in RecurrentActivation(kind, alpha: a, beta: b, name: name) } })
        }
        return .success(out)
    }

    /// The readings of a missing α: onnxruntime's and the standalone op's default (empty: none).
    static func defaultAlphas(_ k: Kind) -> [Double] {
        switch k {
        case .leakyrelu: return [0.01]
        case .hardsigmoid: return [0.2]
        case .elu: return [1.0]
        case .thresholdedrelu: return [0, 1.0]
        default: return []
        }
    }

    static func defaultBetas(_ k: Kind) -> [Double] { k == .hardsigmoid ? [0.5] : [] }

    /// The hull of the bounds of every reading on [−w, w]; nil if one is discontinuous there.
    static func bounds(_ readings: [RecurrentActivation], halfWidth w: Double) -> ActivationBounds? {
        var acc: ActivationBounds?
        for r in readings {
            guard let b = r.bounds(halfWidth: w) else { return nil }
            acc = acc.map { $0.union(b) } ?? b
        }
        return acc
    }
}

/// Why a recurrent node gets no finite bound.
enum RecurrentError: Error, Equatable {
    /// No finite global Lipschitz constant exists (recurrent.md §8) or one cannot be proven.
    case unbounded(String)
    /// The node is not a valid LSTM/GRU/RNN (shapes, attributes).
    case malformed(String)

    var message: String {
        switch self {
        case let .unbounded(s), let .malformed(s): return s
        }
    }
}
