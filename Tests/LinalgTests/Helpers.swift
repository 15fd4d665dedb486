// Shared test helpers: a seeded generator, a naive direct convolution, dense matrices by impulses.
import Foundation
import Linalg

/// SplitMix64 + Box–Muller; independent of Linalg's internal generator.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }
    mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())
    }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in Float(normal()) } }
}


/// All multi-indices of an extent, row-major (last index fastest).
func multiIndices(_ extent: [Int]) -> [[Int]] {
    var out: [[Int]] = [[]]
    for n in extent { out = out.flatMap { prefix in (0..<n).map { prefix + [$0] } } }
    return out
}

func flat(_ idx: [Int], _ extent: [Int]) -> Int { zip(idx, extent).reduce(0) { $0 * $1.1 + $1.0 } }

/// The ONNX Conv / ConvTranspose by direct loops in float64, written from the ONNX operator
/// specification independently of Linalg's im2col. Returns (y, |A|·|x|) — the second is the
/// scale of the float32 rounding error bound γ_K·(|A||x|)ᵢ.
func naiveConv(_ g: ConvGeometry, weight: [Float], x: [Float]) -> (y: [Double], abs: [Double]) {
    var y = [Double](repeating: 0, count: g.outputCount), a = y
    let taps = multiIndices(g.kernel), kCount = g.kernel.reduce(1, *)
    if !g.transposed {
        // y[m, o] = Σ_{c in group, j} W[m, c', j] · x[g·C/g + c', o·s + j·d − pb]
        let cg = g.inChannels / g.groups, mg = g.outChannels / g.groups
        for m in 0..<g.outChannels {
            let gr = m / mg
            for o in multiIndices(g.output) {
                var s = 0.0, sa = 0.0
                for c in 0..<cg {
                    for j in taps {
                        let p = (0..<g.rank).map { o[$0] * g.strides[$0] + j[$0] * g.dilations[$0] - g.padsBegin[$0] }
                        guard zip(p, g.input).allSatisfy({ $0 >= 0 && $0 < $1 }) else { continue }
                        let w = Double(weight[(m * cg + c) * kCount + flat(j, g.kernel)])
                        let xv = Double(x[(gr * cg + c) * g.input.reduce(1, *) + flat(p, g.input)])
                        s += w * xv; sa += abs(w * xv)
                    }
                }
                y[m * g.output.reduce(1, *) + flat(o, g.output)] = s
                a[m * g.output.reduce(1, *) + flat(o, g.output)] = sa
            }
        }
    } else {
        // y[gr·M/g + o', i·s + j·d − pb] += W[c, o', j] · x[c, i]
        let cg = g.inChannels / g.groups, og = g.outChannels / g.groups
        for c in 0..<g.inChannels {
            let gr = c / cg
            for i in multiIndices(g.input) {
                let xv = Double(x[c * g.input.reduce(1, *) + flat(i, g.input)])
                for o in 0..<og {
                    for j in taps {
                        let p = (0..<g.rank).map { i[$0] * g.strides[$0] + j[$0] * g.dilations[$0] - g.padsBegin[$0] }
                        guard zip(p, g.output).allSatisfy({ $0 >= 0 && $0 < $1 }) else { continue }
                        let w = Double(weight[(c * og + o) * kCount + flat(j, g.kernel)])
                        let at = (gr * og + o) * g.output.reduce(1, *) + flat(p, g.output)
                        y[at] += w * xv; a[at] += abs(w * xv)
                    }
                }
            }
        }
    }
    return (y, a)
}

/// The dense matrix (outputCount × inputCount, row-major, float64) of `op`, column k = A·e_k.
func denseByImpulses(_ op: ConvOperator) -> [Double] {
    let n = op.geometry.inputCount, m = op.geometry.outputCount
    var a = [Double](repeating: 0, count: m * n)
    for k in 0..<n {
        var e = [Float](repeating: 0, count: n); e[k] = 1
        let col = op.apply(e)
        for i in 0..<m { a[i * n + k] = Double(col[i]) }
    }
    return a
}

/// The dense matrix of the adjoint (inputCount × outputCount), column i = Aᵀ·e_i.
func denseAdjointByImpulses(_ op: ConvOperator) -> [Double] {
    let n = op.geometry.inputCount, m = op.geometry.outputCount
    var a = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        var e = [Float](repeating: 0, count: m); e[i] = 1
        let col = op.adjoint(e)
        for k in 0..<n { a[k * m + i] = Double(col[k]) }
    }
    return a
}

func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
func norm2(_ a: [Float]) -> Double { dot(a, a).squareRoot() }
