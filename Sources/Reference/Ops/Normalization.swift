import Foundation
import ONNX

/// The kernel behind LayerNormalization, InstanceNormalization and GroupNormalization: the
/// input is split into `groups` contiguous blocks of K elements; each block is normalized,
/// x̂ = (x − μ)·s with μ = mean, s = 1/√(σ² + ε), σ² = mean((x − μ)²) (sums in Double), then
/// y = x̂·γ + β with γ, β read through `affine` (an index per element into the scale and
/// bias inputs). Optional outputs 1 and 2 are μ and s per block (LayerNormalization's Mean
/// and InvStdDev). VJP per block with ĝ = g·γ and gμ, gₛ the cotangents of μ and s:
/// dx = s·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) + gμ/K − gₛ·s²·x̂/K (∂s/∂xᵢ = −s³(xᵢ − μ)/K);
/// dγ = Σ g·x̂ and dβ = Σ g over the elements sharing a scale.
struct NormalizationKernel: Kernel {
    let groups: Int
    let k: Int
    let epsilon: Float
    /// Per element, its index into scale/bias.
    let affine: [Int32]
    let scaleCount: Int
    let biasCount: Int
    let shape: [Int]
    let statsShape: [Int]

    /// Per block: μ and s.
    func stats(_ x: [Float]) -> (mean: [Float], inv: [Float]) {
        var mean = [Float](repeating: 0, count: groups), inv = mean
        for g in 0..<groups {
            let base = g * k
            var s = 0.0
            for i in 0..<k { s += Double(x[base + i]) }
            let mu = s / Double(max(k, 1))
            var v = 0.0
            for i in 0..<k { let d = Double(x[base + i]) - mu; v += d * d }
            mean[g] = Float(mu)
            inv[g] = Float(1 / (v / Double(max(k, 1)) + Double(epsilon)).squareRoot())
        }
        return (mean, inv)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs[0], let gamma = inputs[1] else { return [] }
        let beta = inputs.count > 2 ? inputs[2] : nil
        let (mean, inv) = stats(x.data)
        var y = x.data
        for g in 0..<groups {
            for i in (g * k)..<((g + 1) * k) {
                let j = Int(affine[i])
                y[i] = (x.data[i] - mean[g]) * inv[g] * gamma.data[j] + (beta?.data[j] ?? 0)
            }
        }
        return [Value(shape: shape, data: y, dtype: x.dtype), Value(shape: statsShape, data: mean),
                Value(shape: statsShape, data: inv)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0], let gamma = a.inputs[1] else { return [nil, nil, nil] }
        let (mean, inv) = stats(x.data)
        let n = groups * k
        var xhat = x.data
        for g in 0..<groups { for i in (g * k)..<((g + 1) * k) { xhat[i] = (x.data[i] - mean[g]) * inv[g] } }
        let gMean = a.grads.count > 1 && a.grads[1].count == a.rows * groups ? a.grads[1] : nil
        let gInv = a.grads.count > 2 && a.grads[2].count == a.rows * groups ? a.grads[2] : nil
        var dx: [Float]? = a.wants[0] ? .zeros(a.rows * n) : nil
        var dgamma: [Float]? = a.wants.count > 1 && a.wants[1] ? .zeros(a.rows * scaleCount) : nil
        var dbeta: [Float]? = a.wants.count > 2 && a.wants[2] ? .zeros(a.rows * biasCount) : nil
        let kf = Float(max(k, 1))
        for r in 0..<a.rows {
            let go = r * n
            for g in 0..<groups {
                let base = g * k
                if dx != nil {
                    var sg: Float = 0, sgx: Float = 0
                    for i in base..<(base + k) {
                        let gh = a.grad[go + i] * gamma.data[Int(affine[i])]
                        sg += gh
                        sgx += gh * xhat[i]
                    }
                    let mg = sg / kf, mgx = sgx / kf
                    let gm = gMean?[r * groups + g] ?? 0, gs = gInv?[r * groups + g] ?? 0
                    let s = inv[g]
                    for i in base..<(base + k) {
                        let gh = a.grad[go + i] * gamma.data[Int(affine[i])]
                        // μ's cotangent spreads as 1/K; s = (σ² + ε)^(−1/2) has ∂s/∂xᵢ = −s³(xᵢ − μ)/K.
                        dx?[go + i] = s * (gh - mg - xhat[i] * mgx) + gm / kf - gs * s * s * xhat[i] / kf
                    }
                }
                for i in base..<(base + k) {
                    let j = Int(affine[i])
                    dgamma?[r * scaleCount + j] += a.grad[go + i] * xhat[i]
                    dbeta?[r * biasCount + j] += a.grad[go + i]
                }
            }
        }
        return [dx, dgamma, dbeta]
    }
}
