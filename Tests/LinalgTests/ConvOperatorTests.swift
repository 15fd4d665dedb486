// ConvOperator against a naive ONNX loop and its own dense impulse-response matrix.
import Testing
@testable import Linalg

/// One convolution case of the test grid.
struct ConvCase: CustomStringConvertible, Sendable {
    var name: String
    var inC: Int, outC: Int, groups: Int
    var input: [Int], kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int], padsEnd: [Int]
    var transposed = false
    var outputPadding: [Int]? = nil

    var description: String { name }

    var geometry: ConvGeometry {
        let output = transposed
            ? ConvGeometry.convTransposeOutput(input: input, kernel: kernel, strides: strides, dilations: dilations,
                                               padsBegin: padsBegin, padsEnd: padsEnd,
                                               outputPadding: outputPadding ?? input.map { _ in 0 })
            : ConvGeometry.convOutput(input: input, kernel: kernel, strides: strides, dilations: dilations,
                                      padsBegin: padsBegin, padsEnd: padsEnd)
        return ConvGeometry(inChannels: inC, outChannels: outC, groups: groups, input: input, kernel: kernel,
                            strides: strides, dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd,
                            output: output, transposed: transposed)
    }

    func weight(seed: UInt64 = 7) -> [Float] {
        var r = TestRandom(seed)
        return r.floats(geometry.weightCount)
    }
}

/// The grid: rank 1/2/3, stride, asymmetric pads, dilation, groups (incl. depthwise), 1×1 fast path, transposed.
let convCases: [ConvCase] = [
    ConvCase(name: "1d k3 s1 p1", inC: 2, outC: 3, groups: 1, input: [9], kernel: [3], strides: [1], dilations: [1], padsBegin: [1], padsEnd: [1]),
    ConvCase(name: "1d k4 s2 d2 p(2,1)", inC: 2, outC: 2, groups: 1, input: [13], kernel: [4], strides: [2], dilations: [2], padsBegin: [2], padsEnd: [1]),
    ConvCase(name: "2d k3 s1 p1", inC: 3, outC: 4, groups: 1, input: [5, 6], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1]),
    ConvCase(name: "2d k3 s2 p(1,0) no-end-pad", inC: 2, outC: 3, groups: 1, input: [7, 6], kernel: [3, 2], strides: [2, 3], dilations: [1, 1], padsBegin: [1, 0], padsEnd: [0, 1]),
    ConvCase(name: "2d k3 d2 p2", inC: 2, outC: 2, groups: 1, input: [6, 7], kernel: [3, 3], strides: [1, 1], dilations: [2, 2], padsBegin: [2, 2], padsEnd: [2, 2]),
    ConvCase(name: "2d groups 2", inC: 4, outC: 6, groups: 2, input: [5, 5], kernel: [3, 3], strides: [2, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1]),
    ConvCase(name: "2d depthwise ×2", inC: 3, outC: 6, groups: 3, input: [6, 5], kernel: [3, 3], strides: [1, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 0]),
    ConvCase(name: "2d 1x1 identity path", inC: 5, outC: 3, groups: 1, input: [4, 5], kernel: [1, 1], strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0]),
    ConvCase(name: "2d 1x1 s2", inC: 3, outC: 2, groups: 1, input: [5, 6], kernel: [1, 1], strides: [2, 2], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0]),
    ConvCase(name: "3d k(2,3,2) s(1,2,1) p", inC: 2, outC: 2, groups: 1, input: [3, 5, 4], kernel: [2, 3, 2], strides: [1, 2, 1], dilations: [1, 1, 1], padsBegin: [0, 1, 1], padsEnd: [1, 1, 0]),
    ConvCase(name: "3d groups 2 d2", inC: 2, outC: 4, groups: 2, input: [4, 4, 5], kernel: [2, 2, 2], strides: [1, 1, 2], dilations: [2, 1, 1], padsBegin: [1, 0, 1], padsEnd: [1, 0, 0]),
    ConvCase(name: "T 1d k3 s2", inC: 2, outC: 3, groups: 1, input: [5], kernel: [3], strides: [2], dilations: [1], padsBegin: [0], padsEnd: [0], transposed: true),
    ConvCase(name: "T 2d k4 s2 p1 outpad1", inC: 3, outC: 2, groups: 1, input: [3, 4], kernel: [4, 3], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 0], transposed: true, outputPadding: [1, 1]),
    ConvCase(name: "T 2d groups 2 d2", inC: 4, outC: 2, groups: 2, input: [4, 3], kernel: [3, 2], strides: [1, 2], dilations: [2, 1], padsBegin: [1, 0], padsEnd: [0, 0], transposed: true),
    ConvCase(name: "T 2d depthwise", inC: 3, outC: 3, groups: 3, input: [4, 4], kernel: [3, 3], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], transposed: true, outputPadding: [1, 1]),
    ConvCase(name: "T 3d s2", inC: 2, outC: 2, groups: 1, input: [2, 3, 2], kernel: [2, 2, 3], strides: [2, 1, 2], dilations: [1, 1, 1], padsBegin: [0, 1, 1], padsEnd: [0, 0, 1], transposed: true),
]

/// Shapes large enough (column matrix ≥ ``ConvOperator/parallelMinimum`` floats) for the threaded
/// im2col/col2im, split by channel (many channels) and by big-side lines (few channels).
let largeConvCases: [ConvCase] = [
    ConvCase(name: "2d large few channels k5 p2", inC: 2, outC: 3, groups: 1, input: [40, 40], kernel: [5, 5], strides: [1, 1], dilations: [1, 1], padsBegin: [2, 2], padsEnd: [2, 2]),
    ConvCase(name: "2d large s2 p1", inC: 16, outC: 4, groups: 1, input: [33, 33], kernel: [3, 3], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1]),
    ConvCase(name: "2d large groups 2 k11 s4", inC: 6, outC: 4, groups: 2, input: [51, 47], kernel: [11, 11], strides: [4, 4], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0]),
    ConvCase(name: "T 2d large k4 s2 p1", inC: 4, outC: 8, groups: 1, input: [16, 16], kernel: [4, 4], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], transposed: true),
]

/// Unit roundoff of float32.
let u32 = 0x1p-24

@Suite struct ConvOperatorTests {
    /// apply/adjoint agree with the naive float64 loop within the classical dot-product bound
    /// |fl(y) − y| ≤ γ_n·(|A||x|)ᵢ, γ_n = n·u/(1 − n·u), n = (B/g)·K + S/g + c covers both sgemm orders and the col2im sum, u = 2⁻²⁴.
    @Test(arguments: convCases)
    func matchesNaiveLoop(_ c: ConvCase) throws {
        let g = c.geometry
        let w = c.weight()
        let op = try ConvOperator(geometry: g, copying: w)
        var r = TestRandom(99)
        let batch = 2
        let x = r.floats(batch * g.inputCount)
        let y = op.apply(x, batch: batch)
        let terms = Double(g.weightCount / g.smallChannels + g.smallChannels / g.groups + g.overlapBound)
        let gamma = terms * u32 / (1 - terms * u32)
        for n in 0..<batch {
            let xs = Array(x[(n * g.inputCount)..<((n + 1) * g.inputCount)])
            let (ref, absRef) = naiveConv(g, weight: w, x: xs)
            for i in 0..<g.outputCount {
                let got = Double(y[n * g.outputCount + i])
                #expect(abs(got - ref[i]) <= gamma * absRef[i] + 1e-30, "\(c) item \(n) y[\(i)] = \(got), reference \(ref[i])")
            }
        }
    }

    /// Large shapes (threaded im2col/col2im, several items per adjoint sgemm) and, with a small
    /// column budget, several unequal column tiles: apply and adjoint (batch 3) against the naive
    /// loop, the adjoint as the naive loop of the flipped geometry (Conv ↔ ConvTranspose, same weight).
    @Test(arguments: largeConvCases, [0, 300])
    func largeShapesMatchNaiveLoop(_ c: ConvCase, tileColumns: Int) throws {
        let g = c.geometry
        let w = c.weight(seed: 29)
        let rows = g.weightCount / g.smallChannels
        let op = tileColumns == 0 ? try ConvOperator(geometry: g, copying: w)
                                  : try ConvOperator(geometry: g, copying: w, columnBudget: rows * tileColumns)
        let flipped = ConvGeometry(inChannels: g.outChannels, outChannels: g.inChannels, groups: g.groups,
                                   input: g.output, kernel: g.kernel, strides: g.strides, dilations: g.dilations,
                                   padsBegin: g.padsBegin, padsEnd: g.padsEnd, output: g.input, transposed: !g.transposed)
        #expect(flipped.weightShape == g.weightShape)
        let terms = Double(rows + g.smallChannels / g.groups + g.overlapBound)
        let gamma = terms * u32 / (1 - terms * u32)
        var r = TestRandom(31)
        let batch = 3
        let x = r.floats(batch * g.inputCount), y = r.floats(batch * g.outputCount)
        let ax = op.apply(x, batch: batch), aty = op.adjoint(y, batch: batch)
        for n in 0..<batch {
            let (ref, absRef) = naiveConv(g, weight: w, x: Array(x[(n * g.inputCount)..<((n + 1) * g.inputCount)]))
            let bad = (0..<g.outputCount).filter { abs(Double(ax[n * g.outputCount + $0]) - ref[$0]) > gamma * absRef[$0] + 1e-30 }
            #expect(bad.isEmpty, "\(c) tile \(tileColumns) apply item \(n): \(bad.count) entries off, first \(bad.first ?? -1)")
            let (refT, absT) = naiveConv(flipped, weight: w, x: Array(y[(n * g.outputCount)..<((n + 1) * g.outputCount)]))
            let badT = (0..<g.inputCount).filter { abs(Double(aty[n * g.inputCount + $0]) - refT[$0]) > gamma * absT[$0] + 1e-30 }
            #expect(badT.isEmpty, "\(c) tile \(tileColumns) adjoint item \(n): \(badT.count) entries off, first \(badT.first ?? -1)")
        }
    }

    /// The dense matrix built from adjoint impulses is exactly the transpose of the one built from
    /// forward impulses (every entry is one weight or zero, so equality is exact), and A·x by the
    /// dense matrix matches apply within γ_n.
    @Test(arguments: convCases)
    func denseMatrixAndAdjointTranspose(_ c: ConvCase) throws {
        let g = c.geometry
        let w = c.weight(seed: 11)
        let op = try ConvOperator(geometry: g, copying: w)
        let m = g.outputCount, n = g.inputCount
        let a = denseByImpulses(op), at = denseAdjointByImpulses(op)
        var mismatches = 0
        for i in 0..<m { for k in 0..<n where a[i * n + k] != at[k * m + i] { mismatches += 1 } }
        #expect(mismatches == 0, "\(c): \(mismatches) entries of Aᵀ differ from the transpose of A")
        // Every nonzero of A is a weight: the count of nonzeros per column is ≤ (S/g)·c.
        let nnzPerColumn = (0..<n).map { k in (0..<m).filter { a[$0 * n + k] != 0 }.count }
        #expect((nnzPerColumn.max() ?? 0) <= g.weightCount / g.bigChannels * g.groups * g.overlapCount, "\(c)")
        var r = TestRandom(5)
        let x = r.floats(n)
        let y = op.apply(x)
        let (_, absRef) = naiveConv(g, weight: w, x: x)
        let terms = Double(n + g.overlapBound)
        for i in 0..<m {
            let dense = (0..<n).reduce(0.0) { $0 + a[i * n + $1] * Double(x[$1]) }
            #expect(abs(Double(y[i]) - dense) <= terms * u32 * absRef[i] * 1.01 + 1e-30, "\(c) row \(i)")
        }
    }

    /// ⟨Ax, y⟩ = ⟨x, Aᵀy⟩ for random x, y (batch 3), to 1e-5·‖Ax‖·‖y‖ (float32 products, float64 dots).
    @Test(arguments: convCases)
    func adjointIdentity(_ c: ConvCase) throws {
        let g = c.geometry
        let w = c.weight(seed: 13)
        let op = try ConvOperator(geometry: g, copying: w)
        var r = TestRandom(17)
        let x = r.floats(3 * g.inputCount), y = r.floats(3 * g.outputCount)
        let ax = op.apply(x, batch: 3), aty = op.adjoint(y, batch: 3)
        let lhs = dot(ax, y), rhs = dot(x, aty)
        let scale = max(norm2(ax) * norm2(y), norm2(x) * norm2(aty))
        #expect(abs(lhs - rhs) <= 1e-5 * scale, "\(c): ⟨Ax,y⟩ = \(lhs), ⟨x,Aᵀy⟩ = \(rhs)")
    }

    /// A ConvTranspose is the adjoint of the Conv from C_out to C_in with the same weight tensor,
    /// checked against the naive ONNX Conv loop (independent of Linalg's scatter code).
    @Test(arguments: convCases.filter(\.transposed))
    func transposeIsAdjointOfConv(_ c: ConvCase) throws {
        let t = c.geometry
        let conv = ConvGeometry(inChannels: t.outChannels, outChannels: t.inChannels, groups: t.groups,
                                input: t.output, kernel: t.kernel, strides: t.strides, dilations: t.dilations,
                                padsBegin: t.padsBegin, padsEnd: t.padsEnd, output: t.input)
        let w = c.weight(seed: 23)
        #expect(conv.weightShape == t.weightShape)
        let op = try ConvOperator(geometry: t, copying: w)
        // Column k of the naive Conv's dense matrix is row k of the ConvTranspose's dense matrix.
        let aT = denseByImpulses(op)   // (C_out·output) × (C_in·input)
        let n = t.inputCount, m = t.outputCount
        #expect(conv.inputCount == m && conv.outputCount == n)
        for k in 0..<m {
            var e = [Float](repeating: 0, count: m); e[k] = 1
            let convColumn = naiveConv(conv, weight: w, x: e).y
            for i in 0..<n where convColumn[i] != aT[k * n + i] {
                Issue.record("\(c): Conv column \(k) row \(i) = \(convColumn[i]), ConvTranspose (\(k), \(i)) = \(aT[k * n + i])")
            }
        }
    }

    /// The exact overlap count never exceeds the closed form and equals the brute-force maximum
    /// number of nonzeros in a column of A's single-channel pattern.
    @Test(arguments: convCases)
    func overlapCount(_ c: ConvCase) throws {
        let g = c.geometry
        #expect(g.overlapCount <= g.overlapBound)
        var one = g
        one.inChannels = 1; one.outChannels = 1; one.groups = 1
        let w = [Float](repeating: 1, count: one.weightCount)
        let op = try ConvOperator(geometry: one, copying: w)
        // With all-ones weight and one channel, (Aᵀ·1 on the small side) at a big-side position counts its windows.
        let bigSide = g.transposed ? op.apply([Float](repeating: 1, count: one.inputCount))
                                   : op.adjoint([Float](repeating: 1, count: one.outputCount))
        #expect(Int(bigSide.max() ?? 0) == g.overlapCount, "\(c)")
    }

    @Test func rejectsInconsistentShapes() {
        let g = ConvGeometry(inChannels: 3, outChannels: 4, groups: 2, input: [5, 5], kernel: [3, 3], strides: [1, 1],
                             dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], output: [5, 5])
        let w = [Float](repeating: 0, count: 100)
        #expect(throws: LinalgError.self) { try ConvOperator(geometry: g, copying: w) }
        var ok = g; ok.inChannels = 4
        #expect(ok.weightCount == 4 * 2 * 9)
        #expect(throws: LinalgError.self) { try ConvOperator(geometry: ok, copying: w) }
        var huge = ok; huge.input = [1 << 40, 1 << 40]
        #expect(throws: LinalgError.self) { try huge.validate() }
        var zeroStride = ok; zeroStride.strides = [0, 1]
        #expect(throws: LinalgError.self) { try zeroStride.validate() }
    }

    @Test func shortBuffersGiveNaNNotACrash() throws {
        let g = convCases[2].geometry
        let w = convCases[2].weight()
        let op = try ConvOperator(geometry: g, copying: w)
        let y = op.apply([Float](repeating: 1, count: g.inputCount), batch: 2)
        #expect(y.count == 2 * g.outputCount)
        #expect(y[0..<g.outputCount].allSatisfy { $0.isFinite })
        #expect(y[g.outputCount...].allSatisfy { $0.isNaN })
    }
}
