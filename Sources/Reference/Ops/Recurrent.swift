import Foundation
import ONNX

// The machinery shared by LSTM, GRU and RNN (layout 0): X (T, B, I), W (D, G·H, I),
// R (D, G·H, H), B (D, 2·G·H) = [Wb, Rb], sequence_lens (B), initial_h (D, B, H); outputs
// Y (T, D, B, H), Y_h (D, B, H) (and LSTM's Y_c). Direction forward, reverse or
// bidirectional (D = 2: forward then reverse). With sequence_lens a batch entry of length
// L runs its first L steps (the reverse direction from step L − 1 down to 0), Y is 0 past L
// and Y_h/Y_c hold the state after its last step (the initial state when L = 0).

/// An activation of a recurrent cell with its derivative (given the pre-activation).
struct RNNActivation: Sendable {
    enum Kind: String { case relu, tanh, sigmoid, affine, leakyrelu, thresholdedrelu, scaledtanh, hardsigmoid, elu, softsign, softplus }
    let kind: Kind
    let alpha: Float
    let beta: Float

    func value(_ x: Float) -> Float {
        switch kind {
        case .relu: return max(0, x)
        case .tanh: return tanhf(x)
        case .sigmoid: return Sigmoid().value(x)
        case .affine: return alpha * x + beta
        case .leakyrelu: return x >= 0 ? x : alpha * x
        case .thresholdedrelu: return x > alpha ? x : 0
        case .scaledtanh: return alpha * tanhf(beta * x)
        case .hardsigmoid: return min(1, max(0, alpha * x + beta))
        case .elu: return x > 0 ? x : alpha * (expf(x) - 1)
        case .softsign: return x / (1 + abs(x))
        case .softplus: return Softplus().value(x)
        }
    }

    func derivative(_ x: Float) -> Float {
        switch kind {
        case .relu: return x > 0 ? 1 : 0
        case .tanh: let t = tanhf(x); return 1 - t * t
        case .sigmoid: let s = Sigmoid().value(x); return s * (1 - s)
        case .affine: return alpha
        case .leakyrelu: return x >= 0 ? 1 : alpha
        case .thresholdedrelu: return x > alpha ? 1 : 0
        case .scaledtanh: let t = tanhf(beta * x); return alpha * beta * (1 - t * t)
        case .hardsigmoid: let v = alpha * x + beta; return v > 0 && v < 1 ? alpha : 0
        case .elu: return x > 0 ? 1 : alpha * expf(x)
        case .softsign: let d = 1 + abs(x); return 1 / (d * d)
        case .softplus: return Sigmoid().value(x)
        }
    }

    /// The node's `activations` (default `defaults` per direction), with activation_alpha /
    /// activation_beta consumed in order, one value per activation that takes it — as
    /// onnxruntime reads them (ONNX's own text pairs them by position) — and each function's
    /// defaults when the lists run out.
    static func parse(_ c: KernelContext, defaults: [String], directions: Int) throws(ReferenceError) -> [[RNNActivation]] {
        var names = Array((0..<directions).map { _ in defaults }.joined())
        if case let .strings(given)? = c.node.attributes["activations"] { names = given }
        guard names.count == defaults.count * directions else {
            throw c.fail("\(names.count) activations for \(directions) direction(s) of \(defaults.count)")
        }
        var alphas = (c.node.floats("activation_alpha") ?? [])[...], betas = (c.node.floats("activation_beta") ?? [])[...]
        var all: [RNNActivation] = []
        for name in names {
            guard let kind = Kind(rawValue: name.lowercased()) else { throw c.fail("unknown activation '\(name)'") }
            let (da, db): (Float?, Float?)
            switch kind {
            case .affine, .scaledtanh: (da, db) = (1, kind == .affine ? 0 : 1)
            case .hardsigmoid: (da, db) = (0.2, 0.5)
            case .leakyrelu: (da, db) = (0.01, nil)
            case .thresholdedrelu, .elu: (da, db) = (1, nil)
            default: (da, db) = (nil, nil)
            }
            let alpha = da.map { d in alphas.popFirst() ?? d } ?? 0
            let beta = db.map { d in betas.popFirst() ?? d } ?? 0
            all.append(RNNActivation(kind: kind, alpha: alpha, beta: beta))
        }
        return (0..<directions).map { Array(all[($0 * defaults.count)..<(($0 + 1) * defaults.count)]) }
    }
}

/// One recurrent cell type, per direction: a step over the whole batch and its VJP.
protocol RecurrentCell {
    /// G: gates stacked in W and R.
    var gates: Int { get }
    /// Whether the cell carries a second state (LSTM's c).
    var hasCell: Bool { get }
    /// One step: xw (B × G·H, input projection plus W's bias), the previous h (and c) →
    /// the new h, the new c (empty without a cell state) and what the VJP needs.
    func step(_ xw: [Float], h: [Float], c: [Float], batch: Int, dir: Int) -> (h: [Float], c: [Float], saved: [Float])
    /// The VJP of `step` for `rows` cotangent sets of h and c (rows × B × H each) → the
    /// cotangents of xw (rows × B × G·H), of the previous h and of the previous c.
    func back(_ saved: [Float], dh: [Float], dc: [Float], batch: Int, rows: Int, dir: Int) -> (dxw: [Float], dh: [Float], dc: [Float])
}

/// Clips a pre-activation to [−clip, clip] (clip ≤ 0: none) and tells whether it was inside.
@inline(__always)
func clipped(_ v: Float, _ clip: Float) -> (Float, Bool) {
    guard clip > 0 else { return (v, true) }
    return v > clip ? (clip, false) : (v < -clip ? (-clip, false) : (v, true))
}

/// C[m × n] (+)= A[m × k]·B[k × n] or A·Bᵀ (B stored n × k) on plain arrays.
func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transB: Bool, into c: inout [Float], accumulate: Bool = false) {
    sgemm(false, transB, m: m, n: n, k: k, a, 0, lda: k, b, 0, ldb: transB ? k : n, beta: accumulate ? 1 : 0, &c, 0, ldc: n)
}
