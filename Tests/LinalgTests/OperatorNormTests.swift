// OperatorNorm: the certified interval contains σ_max of the dense impulse-response matrix (LAPACK).
import Testing
@testable import Linalg

/// σ_matrix of the reshaped weight by the exact path (checked against dgesdd in SpectralNormTests).
func matrixSigma(_ g: ConvGeometry, _ w: [Float]) throws -> Double {
    let shape = g.weightMatrix
    return try w.withUnsafeBufferPointer {
        try SpectralNorm.largest($0, rows: shape.rows, cols: shape.cols, blocks: shape.blocks, options: .init(exact: true))
    }.sigma
}

/// Extra cases where √c·σ_matrix is attained (c = 1) or far from tight (stride 1, large kernel).
let operatorCases: [ConvCase] = convCases + [
    ConvCase(name: "2d k2 s2 non-overlapping (c = 1, tight)", inC: 3, outC: 4, groups: 1, input: [6, 4], kernel: [2, 2], strides: [2, 2], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0]),
    ConvCase(name: "1d k5 s1 p2 (c = 5)", inC: 2, outC: 2, groups: 1, input: [24], kernel: [5], strides: [1], dilations: [1], padsBegin: [2], padsEnd: [2]),
    ConvCase(name: "T 2d k2 s2 (c = 1, tight)", inC: 2, outC: 3, groups: 1, input: [3, 3], kernel: [2, 2], strides: [2, 2], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], transposed: true),
]

@Suite struct OperatorNormTests {
    /// lower ≤ σ_exact ≤ upper with σ_exact = σ₁ of the dense matrix (dgesdd). Tolerances:
    /// lower may exceed σ_exact only by float32 rounding of one product (1e-6 relative);
    /// upper is a theorem given the exact σ_matrix (1e-12 relative slack for float64 rounding);
    /// and Lanczos must actually converge when asked to (operator tolerance 1e-6):
    /// lower ≥ σ_exact·(1 − 1e-5).
    @Test(arguments: operatorCases)
    func intervalContainsExactNorm(_ c: ConvCase) throws {
        let g = c.geometry
        let w = c.weight(seed: 31)
        let op = try ConvOperator(geometry: g, copying: w)
        let dense = denseByImpulses(op)
        let exact = referenceSigma(dense.map(Float.init), rows: g.outputCount, cols: g.inputCount)
        let sm = try matrixSigma(g, w)
        let e = OperatorNorm.convolution(op, matrixSigma: sm, options: .init(operatorTolerance: 1e-6))
        #expect(e.lower <= exact * (1 + 1e-6), "\(c): lower \(e.lower) > exact \(exact)")
        #expect(exact <= e.upper * (1 + 1e-12), "\(c): exact \(exact) > upper \(e.upper)")
        #expect(e.lower >= exact * (1 - 1e-5), "\(c): lower \(e.lower) far below exact \(exact) after \(e.iterations) iterations")
        #expect(e.upper <= Double(g.overlapBound).squareRoot() * sm * (1 + 1e-15))
        #expect(e.iterations >= 1 && e.achievedTolerance <= 1e-6, "\(c): \(e)")
    }

    /// With c = 1 (non-overlapping windows covering the input, or a 1×1 kernel) A is a block
    /// permutation of copies of W, so σ_op = σ_matrix and the interval collapses to 1e-5.
    @Test(arguments: operatorCases.filter { $0.geometry.overlapCount == 1 && !$0.name.contains("s2 p") && !$0.name.contains("1x1 s2") })
    func tightWhenWindowsDoNotOverlap(_ c: ConvCase) throws {
        let g = c.geometry
        let w = c.weight(seed: 37)
        let op = try ConvOperator(geometry: g, copying: w)
        let e = OperatorNorm.convolution(op, matrixSigma: try matrixSigma(g, w))
        #expect(e.upper > 0 && abs(e.upper - e.lower) / e.upper <= 1e-5, "\(c): [\(e.lower), \(e.upper)]")
    }

    /// A stride-1 convolution on a large 1-D input: σ_op approaches max over frequencies of the
    /// transfer matrix, well above σ_matrix; the estimate must exceed σ_matrix (the reason σ_op
    /// exists, DESIGN.md §1.1) while staying in the interval.
    @Test func strideOneExceedsMatrixNorm() throws {
        let g = ConvGeometry(inChannels: 1, outChannels: 1, groups: 1, input: [64], kernel: [3], strides: [1],
                             dilations: [1], padsBegin: [1], padsEnd: [1], output: [64])
        let w: [Float] = [1, 1, 1]   // σ_matrix = √3, σ_op → 3 (all-ones symbol at frequency 0)
        let op = try ConvOperator(geometry: g, copying: w)
        let e = OperatorNorm.convolution(op, matrixSigma: 3.0.squareRoot(), options: .init(operatorTolerance: 1e-6))
        let exact = referenceSigma(denseByImpulses(op).map(Float.init), rows: 64, cols: 64)
        #expect(e.lower > 2.9 && e.lower <= exact * (1 + 1e-6) && abs(e.lower - exact) <= 1e-5 * exact)
        #expect(abs(e.upper - 3) <= 1e-12)   // c = 3: √3·√3
    }

    /// The default operator tolerance (1e-4) stops no later than 1e-6, its lower end is still a
    /// lower bound of the exact norm (float32 slack 1e-6) and, on these cases, within 1e-3 of it.
    @Test(arguments: operatorCases)
    func defaultOperatorToleranceIsLooserButSound(_ c: ConvCase) throws {
        let g = c.geometry, w = c.weight(seed: 31)
        let op = try ConvOperator(geometry: g, copying: w)
        let exact = referenceSigma(denseByImpulses(op).map(Float.init), rows: g.outputCount, cols: g.inputCount)
        let sm = try matrixSigma(g, w)
        let loose = OperatorNorm.convolution(op, matrixSigma: sm)
        let tight = OperatorNorm.convolution(op, matrixSigma: sm, options: .init(operatorTolerance: 1e-6))
        #expect(SpectralOptions().operatorTolerance == 1e-4)
        #expect(loose.iterations <= tight.iterations && loose.achievedTolerance <= 1e-4, "\(c): \(loose) vs \(tight)")
        #expect(loose.lower <= exact * (1 + 1e-6) && loose.lower >= exact * (1 - 1e-3), "\(c): \(loose.lower) vs \(exact)")
        #expect(loose.upper == tight.upper)
    }

    @Test func zeroAndNonFiniteWeights() throws {
        let g = convCases[2].geometry
        let zero = [Float](repeating: 0, count: g.weightCount)
        let op0 = try ConvOperator(geometry: g, copying: zero)
        let e0 = OperatorNorm.convolution(op0, matrixSigma: 0)
        #expect(e0.lower == 0 && e0.upper == 0)
        var bad = zero; bad[3] = .nan
        let op1 = try ConvOperator(geometry: g, copying: bad)
        let e1 = OperatorNorm.convolution(op1, matrixSigma: .nan)
        #expect(e1.lower.isNaN && e1.upper.isNaN)
    }
}
