import ONNX

/// A tensor of the form c · s^p inside a dynamic-quantization pattern: c a constant tensor
/// (`values`, row-major, shape `dims`), s the scale output of one DynamicQuantizeLinear (a
/// positive scalar that depends on the input), p an integer power.
///
/// onnxruntime's `quantize_dynamic` rescales the int32 product (x_q − z)⋆(w_q − z_w) by
/// s·w_s, and the older quantizer adds a bias b_q = ⌊b/(s·w_s)⌋ to the int32 product: both are
/// monomials in s (powers 1 and −1). With the rounding removed (DESIGN.md §1.4: rounding is
/// counted by Eq. 8, not by the Lipschitz bound), x_q − z = x/s, so the chain's output is
/// c·s^p · (x/s)⋆W_q + (bias terms of the same power): a fixed linear map of x plus a constant
/// exactly when the powers cancel (p = 1 on the product, p = 0 on the sum). Floor, Round, Ceil
/// and Cast are identities on a monomial for that reason.
struct ScaleMonomial: Sendable {
    var values: [Double]
    var dims: [Int]
    var power: Int

    /// Largest constant factor followed (elements); larger operands are not scale factors.
    static let maxElements = 1 << 22

    static func scale() -> ScaleMonomial { ScaleMonomial(values: [1], dims: [], power: 1) }

    static func constant(_ t: Tensor) -> ScaleMonomial? {
        guard t.dataType.isNumeric, t.count <= maxElements else { return nil }
        return ScaleMonomial(values: t.doubles(), dims: t.dims, power: 0)
    }

    var count: Int { values.count }

    /// Elementwise a·b (or a/b) with numpy broadcasting; nil when the shapes do not broadcast,
    /// the result is too large, or a divisor is zero or not finite.
    static func combine(_ a: ScaleMonomial, _ b: ScaleMonomial, divide: Bool) -> ScaleMonomial? {
        guard let out = Shapes.broadcast(a.dims, b.dims), let count = Shapes.checkedProduct(out), count <= maxElements else { return nil }
        if divide, b.values.contains(where: { $0 == 0 || !$0.isFinite }) { return nil }
        var v = [Double](repeating: 0, count: count)
        Shapes.forEachBroadcastPair(a.dims, b.dims, to: out) { i, ia, ib in
            v[i] = divide ? a.values[ia] / b.values[ib] : a.values[ia] * b.values[ib]
        }
        return ScaleMonomial(values: v, dims: out, power: divide ? a.power - b.power : a.power + b.power)
    }

    /// The factor as one value per output channel: `values` padded on the left to `rank`
    /// dimensions must be 1 everywhere except at `axis`, where it has `channels` entries (or
    /// is one value for the whole tensor). nil with the reason otherwise.
    func perChannel(rank: Int?, axis: Int, fromEnd: Bool, channels: Int) -> Result<[Double], QuantizedPatternError> {
        if values.count == 1 { return .success(values) }
        let r = rank ?? max(dims.count, fromEnd ? 1 : 2)
        guard dims.count <= r else { return .failure(.factorShape(dims)) }
        let padded = Array(repeating: 1, count: r - dims.count) + dims
        let a = fromEnd ? r - 1 : axis
        guard a >= 0, a < r, padded[a] == channels,
              padded.enumerated().allSatisfy({ $0.offset == a || $0.element == 1 }) else { return .failure(.factorShape(dims)) }
        return .success(values)
    }
}

/// Why a dynamic-quantization pattern was not recognised (each a one-line reason).
enum QuantizedPatternError: Error, Sendable {
    case factorShape([Int])
    case message(String)

    var text: String {
        switch self {
        case let .factorShape(d): return "its rescale factor of shape \(d) varies along an axis other than the output channels"
        case let .message(m): return m
        }
    }
}
