import Foundation
import KappaTestSupport
import Linalg
import ONNX
import Sensitivity
import Testing

/// σ of a 2-D constant of `graph` by LAPACK on the explicitly built matrix.
func exactSigma(_ g: ModelGraph, _ name: String) throws -> Double {
    let t = try #require(g.constants[name])
    return try SpectralNorm.singularValues(t.doubles(), rows: t.dims[0], cols: t.dims[1]).max() ?? 0
}

/// Eq. 7 and Eq. 8 by hand (DESIGN.md §1.3–1.4).
struct GraphBoundTests {
    @Test func chainEqualsPaperFormulas() throws {
        let spec = SmallModels.mlp(widths: [6, 5, 4, 3])
        let g = try loadGraph(spec)
        let r = try SensitivityAnalysis.run(g, options: .init(spectral: .init(exact: true), threads: 2))
        let sigmas = try ["W_1", "W_5", "W_9"].map { try exactSigma(g, $0) }
        // Eq. 7: Π ‖θ_i‖.
        #expect(relClose(r.network.eq7.matrix, sigmas.reduce(1, *), 1e-9))
        // Eq. 8: Σ_{i=1..n} Π_{j=0..i−1} ‖θ_{n−j}‖.
        let n = sigmas.count
        var eq8 = 0.0
        for i in 1...n { eq8 += (0..<i).reduce(1.0) { $0 * sigmas[n - 1 - $1] } }
        #expect(relClose(r.network.eq8.matrix, eq8, 1e-9))
        #expect(r.network.roundingPoints == 3)
        // Gemm: σ_op = σ_matrix, so both modes agree.
        #expect(relClose(r.network.eq7.operator, r.network.eq7.matrix))
        // Shares of log2 L sum to 1 on a chain.
        let shares = r.nodes.compactMap { $0.share?.matrix }
        #expect(abs(shares.reduce(0, +) - 1) < 1e-9)
    }

    @Test func residualBlockIsOnePlusLf() throws {
        var b = NetworkBuilder(seed: 11)
        let x = b.input("x", shape: [1, 4])
        let f = b.gemm(b.relu(b.gemm(x, outFeatures: 4)), outFeatures: 4)
        b.output(b.add(x, f))
        let g = try loadGraph(b.model())
        let r = try SensitivityAnalysis.run(g, options: .init(spectral: .init(exact: true), threads: 1))
        let sa = try exactSigma(g, "W_1"), sb = try exactSigma(g, "W_5")
        #expect(relClose(r.network.eq7.matrix, 1 + sa * sb))
        // Rounding at x (h = 1 + σ_B σ_A) and at the second Gemm's input (h = σ_B).
        #expect(relClose(r.network.eq8.matrix, 1 + sa * sb + sb))
    }

    @Test func concatIsRootSumSquare() throws {
        var b = NetworkBuilder(seed: 12)
        let x = b.input("x", shape: [1, 4])
        let p = b.gemm(x, outFeatures: 3), q = b.gemm(x, outFeatures: 2)
        b.output(b.concat([p, q], axis: 1))
        let g = try loadGraph(b.model())
        let r = try SensitivityAnalysis.run(g, options: .init(spectral: .init(exact: true), threads: 2))
        let sa = try exactSigma(g, "W_1"), sb = try exactSigma(g, "W_4")
        #expect(relClose(r.network.eq7.matrix, (sa * sa + sb * sb).squareRoot()))
        // One rounding point (x feeds both); backward gains add.
        #expect(relClose(r.network.eq8.matrix, sa + sb))
    }

    @Test func outputIsTheInputOfTheFinalSoftmax() throws {
        let g = try loadGraph(SmallModels.tinyCNN())
        let dep = try Dependence(g)
        #expect(try AnalysedOutput.select(g, dependence: dep, requested: nil).tensor == "gemm_13")
        #expect(throws: SensitivityError.self) { try AnalysedOutput.select(g, dependence: dep, requested: "nope") }
        // --output an inner tensor: the bound stops there.
        let r = try SensitivityAnalysis.run(g, options: .init(output: "conv_3", threads: 1))
        let conv = try #require(r.nodes.first { $0.node == "conv_3" })
        #expect(relClose(r.network.eq7.matrix, conv.lipschitz.matrix))
    }

    @Test func unsupportedAndUnboundedAreReportedNotSkipped() throws {
        let r = try analyze(SmallModels.withUnsupported())
        #expect(r.network.eq7.matrix == .infinity)
        #expect(r.findings.contains { $0.rule == .unsupportedOp && $0.node == "custom_4" })
        #expect(r.findings.contains { $0.rule == .needsDomain && $0.node == "mul_5" })
        // Everything else is still computed.
        let first = try #require(r.nodes.first { $0.node == "gemm_3" })
        #expect(first.weight?.norms.sigmaMatrix.map { $0 > 0 } == true)
    }

    @Test func nonFiniteWeightIsAFinding() throws {
        let r = try analyze(SmallModels.withNaN())
        #expect(r.findings.map(\.rule) == [.nonFiniteWeight])
        #expect(r.network.eq7.matrix == .infinity)
    }
}
