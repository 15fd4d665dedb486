// SymbolBound: every step of its proof checked numerically on the OperatorNorm grid.
import Foundation
import Testing
@testable import Linalg

/// The gather map (small × big, row-major) of `op` densely: the impulse matrix of a Conv, its
/// transpose for a ConvTranspose.
func denseGather(_ op: ConvOperator) -> [Double] {
    let g = op.geometry, a = denseByImpulses(op)
    guard g.transposed else { return a }
    let rows = g.inputCount, cols = g.outputCount   // gather: small (input) × big (output)
    var t = [Double](repeating: 0, count: rows * cols)
    for i in 0..<rows { for j in 0..<cols { t[i * cols + j] = a[j * rows + i] } }
    return t
}

/// The dense block circulant C of the embedding (real, (S·ΠN) × (B·P·ΠN)) and the prediction
/// R·C·E·Π of the gather matrix, built from the per-axis tap data of `SymbolGrid`.
func circulantEmbedding(_ g: ConvGeometry, _ w: [Float], _ grid: SymbolGrid) -> (c: [Double], rows: Int, cols: Int, predicted: [Double]) {
    let n = grid.axes.map(\.gridSize), cells = n.reduce(1, *), p = grid.phaseCount
    let S = g.transposed ? g.inChannels : g.outChannels, B = g.transposed ? g.outChannels : g.inChannels
    let sg = S / g.groups, bg = B / g.groups, kCount = g.kernel.reduce(1, *)
    let rows = S * cells, cols = B * p * cells
    var c = [Double](repeating: 0, count: rows * cols)
    for mo in 0..<S {
        let gr = mo / sg
        for t in multiIndices(n) {
            for ci in 0..<bg {
                for tap in grid.taps {
                    let u: [Int] = (0..<n.count).map { a -> Int in
                        let v = (t[a] + tap.shifts[a]) % n[a]
                        return v < 0 ? v + n[a] : v
                    }
                    let col = ((gr * bg + ci) * p + tap.phase) * cells + flat(u, n)
                    c[(mo * cells + flat(t, n)) * cols + col] += Double(w[(mo * bg + ci) * kCount + tap.kernelIndex])
                }
            }
        }
    }
    let small = g.transposed ? g.input : g.output, big = g.transposed ? g.output : g.input
    let smallCount = small.reduce(1, *), bigCount = big.reduce(1, *)
    var predicted = [Double](repeating: 0, count: S * smallCount * B * bigCount)
    for mo in 0..<S {
        for i in multiIndices(small) {
            for ch in 0..<B {
                for pos in multiIndices(big) {
                    // Π then E: position → (phase ρ, grid point m); phases without active taps are never read.
                    let phaseIdx = (0..<pos.count).map { grid.axes[$0].phases.firstIndex(of: pos[$0] % g.strides[$0]) }
                    guard phaseIdx.allSatisfy({ $0 != nil }) else { continue }
                    let rho = zip(phaseIdx, grid.axes).reduce(0) { $0 * $1.1.phases.count + ($1.0 ?? 0) }
                    let m = (0..<pos.count).map { pos[$0] / g.strides[$0] }
                    let v = c[(mo * cells + flat(i, n)) * cols + (ch * p + rho) * cells + flat(m, n)]
                    predicted[(mo * smallCount + flat(i, small)) * (B * bigCount) + ch * bigCount + flat(pos, big)] = v
                }
            }
        }
    }
    return (c, rows, cols, predicted)
}

@Suite struct SymbolBoundTests {
    /// Steps (1)–(2) of the proof: A = R·C·E·Π exactly (entries are single float32 weights, so
    /// equality is exact), the tap phases/shifts are e mod s and ⌊e/s⌋, and N is large enough.
    /// Step (3): ‖C‖ by dgesdd equals the computed max over the half spectrum up to its margin
    /// (this also checks the ω ↔ −ω and constant-shift frequency reductions).
    @Test(arguments: operatorCases)
    func embeddingAndBlockDiagonalization(_ c: ConvCase) throws {
        let g = c.geometry, w = c.weight(seed: 31), grid = SymbolGrid(g)
        for (a, axis) in grid.axes.enumerated() {
            for t in axis.taps {
                let e = t.tap * g.dilations[a] - g.padsBegin[a], s = g.strides[a]
                let r = ((e % s) + s) % s
                #expect(axis.phases[t.phase] == r && t.shift == (e - r) / s, "\(c) axis \(a) tap \(t)")
            }
        }
        let op = try ConvOperator(geometry: g, copying: w)
        let emb = circulantEmbedding(g, w, grid)
        let gather = denseGather(op)
        #expect(emb.predicted == gather, "\(c): R·C·E·Π differs from the gather matrix")
        let normC = referenceSigma(emb.c.map(Float.init), rows: emb.rows, cols: emb.cols)
        let symbol = try #require(SymbolBound.convolution(op))
        #expect(normC <= symbol * (1 + 1e-12) && symbol <= normC * (1 + 1e-9), "\(c): ‖C‖ \(normC), symbol \(symbol)")
    }

    /// The theorem: σ_exact ≤ symbol (1e-12 relative slack for the float64 reference SVD), and the
    /// estimate's upper is min(√c·σ_matrix, symbol) with the method named.
    @Test(arguments: operatorCases)
    func symbolBoundsExactNorm(_ c: ConvCase) throws {
        let g = c.geometry, w = c.weight(seed: 31)
        let op = try ConvOperator(geometry: g, copying: w)
        let exact = referenceSigma(denseByImpulses(op).map(Float.init), rows: g.outputCount, cols: g.inputCount)
        let symbol = try #require(SymbolBound.convolution(op))
        #expect(exact <= symbol * (1 + 1e-12), "\(c): exact \(exact) > symbol \(symbol)")
        let sm = try matrixSigma(g, w), overlap = Double(g.overlapCount).squareRoot() * sm
        let e = OperatorNorm.convolution(op, matrixSigma: sm)
        #expect(e.symbolUpper == symbol && e.upper == min(overlap, symbol))
        #expect(e.upperMethod == (symbol < overlap ? .symbol : .overlap))
        #expect(e.lower <= exact * (1 + 1e-6) && exact <= e.upper * (1 + 1e-12))
        print("RATIO \(c.name) | before \(overlap / e.lower) | after \(e.upper / e.lower) | symbol/exact \(symbol / exact)")
    }

    /// Stride s: the polyphase symbol is at most the stride-1 symbol of the same weight on the
    /// stride-1 geometry (whose subsampling A is), as the alias-averaging argument says.
    @Test(arguments: operatorCases.filter { $0.strides.contains { $0 > 1 } && !$0.transposed })
    func polyphaseNotWorseThanStrideOne(_ c: ConvCase) throws {
        var c1 = c
        c1.strides = c.strides.map { _ in 1 }
        let w = c.weight(seed: 31)
        let op = try ConvOperator(geometry: c.geometry, copying: w)
        let op1 = try ConvOperator(geometry: c1.geometry, copying: w)
        let s = try #require(SymbolBound.convolution(op)), s1 = try #require(SymbolBound.convolution(op1))
        #expect(s <= s1 * (1 + 1e-9), "\(c): polyphase \(s) > stride-1 \(s1)")
    }

    /// Closed form: y[i] = x[i] + x[i+1] (valid, n = 200) has σ = 2cos(π/(2n)) → 2 = the symbol at ω = 0.
    @Test func twoTapAverage() throws {
        let n = 200
        let g = ConvGeometry(inChannels: 1, outChannels: 1, groups: 1, input: [n], kernel: [2], strides: [1],
                             dilations: [1], padsBegin: [0], padsEnd: [0], output: [n - 1])
        let w: [Float] = [1, 1]
        let op = try ConvOperator(geometry: g, copying: w)
        let exact = referenceSigma(denseByImpulses(op).map(Float.init), rows: n - 1, cols: n)
        #expect(abs(exact - 2 * cos(Double.pi / Double(2 * n))) <= 1e-12)
        let symbol = try #require(SymbolBound.convolution(op))
        #expect(symbol >= 2 && symbol <= 2 * (1 + 1e-12))
    }

    /// Exact case: one input, two outputs [1, 0, 1] and [1, 0, −1], pads (2, 2): ‖Ax‖² = 4‖x‖², so
    /// σ_op = 2 = the (constant) symbol norm, while √c·σ_matrix = √3·√2.
    @Test func paraunitaryPairIsExact() throws {
        let g = ConvGeometry(inChannels: 1, outChannels: 2, groups: 1, input: [10], kernel: [3], strides: [1],
                             dilations: [1], padsBegin: [2], padsEnd: [2], output: [12])
        let w: [Float] = [1, 0, 1, 1, 0, -1]
        let op = try ConvOperator(geometry: g, copying: w)
        let exact = referenceSigma(denseByImpulses(op).map(Float.init), rows: 24, cols: 10)
        #expect(abs(exact - 2) <= 1e-14)
        let e = OperatorNorm.convolution(op, matrixSigma: 2.0.squareRoot())
        #expect(e.upperMethod == .symbol && e.upper >= 2 && e.upper <= 2 * (1 + 1e-12), "\(e)")
        #expect(abs(e.lower - 2) <= 1e-5)
    }

    /// Budget 0 (or below the estimate) replaces the eigenvalue path by the Cholesky-certified one on
    /// the same exact grid (``SymbolCertificate``): the same bound up to its level slack (≤ 1e-6) and
    /// never below it by more than rounding.
    @Test func budgetSelectsTheCertifiedPath() throws {
        let c = operatorCases[2], g = c.geometry, w = c.weight(seed: 31)
        let op = try ConvOperator(geometry: g, copying: w)
        let sm = try matrixSigma(g, w)
        let eigen = try #require(SymbolBound.convolution(op))
        for budget in [0, SymbolBound.estimatedFlops(g) / 2] {
            let e = OperatorNorm.convolution(op, matrixSigma: sm, options: .init(symbolFlopBudget: budget))
            let s = try #require(e.symbolUpper)
            #expect(e.upperMethod == .certifiedExactGrid || e.upperMethod == .overlap, "\(e)")
            #expect(s >= eigen * (1 - 1e-9) && s <= eigen * (1 + 1e-6), "certified \(s), eigen \(eigen)")
            #expect(e.upper == min(s, Double(g.overlapCount).squareRoot() * sm))
        }
        #expect(SymbolBound.convolution(op, flopBudget: SymbolBound.estimatedFlops(g)) != nil)
    }

    /// The guard: a symbol bound contradicting lower (a bug) is discarded, never reported below it.
    @Test func combineRejectsContradictions() {
        #expect(OperatorNorm.combine(lower: 2, overlap: 3, symbol: 1.9) == (3, .overlap))
        #expect(OperatorNorm.combine(lower: 2, overlap: 3, symbol: .nan) == (3, .overlap))
        #expect(OperatorNorm.combine(lower: 2, overlap: 3, symbol: nil) == (3, .overlap))
        #expect(OperatorNorm.combine(lower: 2, overlap: 3, symbol: 3.5) == (3, .overlap))
        #expect(OperatorNorm.combine(lower: 2, overlap: 3, symbol: 2.5) == (2.5, .symbol))
        #expect(OperatorNorm.combine(lower: 2, overlap: 3, symbol: 2 * (1 - 1e-6)) == (2 * (1 - 1e-6), .symbol))
        #expect(OperatorNorm.combine(lower: 2, overlap: .nan, symbol: 2.5) == (2.5, .symbol))
    }

    /// The half spectrum holds exactly one of each pair {ω, −ω} (self-conjugate ω once).
    @Test(arguments: [[6], [5], [4, 5], [3, 1, 4], [1], [2, 2, 3]])
    func halfSpectrumCoversPairs(_ n: [Int]) {
        let half = SymbolBound.halfSpectrum(n)
        var seen = Set<[Int]>()
        for w in half {
            let neg = zip(w, n).map { ($1 - $0) % $1 }
            #expect(!seen.contains(w) && (w == neg || !seen.contains(neg)))
            seen.insert(w); seen.insert(neg)
        }
        #expect(seen.count == n.reduce(1, *))
    }
}
