import Foundation
import KappaTestSupport
import Linalg
import ONNX
import Sensitivity
import Testing

/// σ_matrix of each weight layout (DESIGN.md §1.1) against LAPACK on the explicitly built
/// matrix, and the diagonal scalings.
struct WeightLayerTests {
    /// σ_max of `rows × cols` given by `entry(i, j)`, via LAPACK dgesdd.
    func sigma(rows: Int, cols: Int, _ entry: (Int, Int) -> Double) throws -> Double {
        var a = [Double](repeating: 0, count: rows * cols)
        for i in 0..<rows { for j in 0..<cols { a[i * cols + j] = entry(i, j) } }
        return try SpectralNorm.singularValues(a, rows: rows, cols: cols).max() ?? 0
    }

    func layer(_ r: AnalysisResult, _ op: String) throws -> NodeAnalysis { try #require(r.nodes.first { $0.op == op }) }

    @Test(arguments: [true, false])
    func groupedConvIsMaxOverGroupBlocks(exact: Bool) throws {
        var b = NetworkBuilder(seed: 31)
        let x = b.input("x", shape: [1, 6, 5, 5])
        b.output(b.conv(x, outChannels: 4, kernel: [3, 2], pads: [1, 1, 1, 1], group: 2))
        let g = try loadGraph(b.model())
        let w = try #require(g.constants["W_1"]).doubles()  // (4, 3, 3, 2)
        let (m, cg, kh, kw, groups) = (4, 3, 3, 2, 2)
        var expected = 0.0
        for gr in 0..<groups {
            // rows: output channels of the group; columns: (input channel in group, kh, kw).
            expected = max(expected, try sigma(rows: m / groups, cols: cg * kh * kw) { i, j in
                let o = gr * (m / groups) + i
                let (c, rest) = (j / (kh * kw), j % (kh * kw))
                return w[((o * cg + c) * kh + rest / kw) * kw + rest % kw]
            })
        }
        let r = try SensitivityAnalysis.run(g, options: .init(spectral: .init(tolerance: 1e-10, exact: exact), threads: 1))
        let row = try layer(r, "Conv")
        #expect(relClose(try #require(row.weight?.norms.sigmaMatrix), expected, exact ? 1e-9 : 1e-5))
        let full = try sigma(rows: 1, cols: w.count) { _, j in w[j] }
        #expect(relClose(try #require(row.weight?.norms.frobenius), full, 1e-6))
        // Closed-form operator bound: c = 3·2 = 6 windows per interior element.
        #expect(relClose(try #require(row.weight?.norms.sigmaOpUpper), 6.0.squareRoot() * expected, 1e-5))
    }

    @Test func convTransposeBlocksAreInputChannelRows() throws {
        var b = NetworkBuilder(seed: 32)
        let x = b.input("x", shape: [1, 4, 3, 3])
        let w = b.heWeight("Wt", dims: [4, 3, 2, 2])  // (C, M/g, k, k), g = 2 → M = 6
        b.output(b.node("ConvTranspose", [x, w], shape: [1, 6, 6, 6],
                        attributes: [("strides", .ints([2, 2])), ("group", .int(2))]))
        let g = try loadGraph(b.model())
        let v = try #require(g.constants["Wt"]).doubles()
        var expected = 0.0
        for gr in 0..<2 {
            expected = max(expected, try sigma(rows: 2, cols: 3 * 4) { i, j in v[(gr * 2 + i) * 12 + j] })
        }
        let r = try SensitivityAnalysis.run(g, options: .init(norm: .operator, spectral: .init(exact: true), threads: 1))
        let row = try layer(r, "ConvTranspose")
        #expect(relClose(try #require(row.weight?.norms.sigmaMatrix), expected, 1e-9))
        // Stride = kernel: no overlap, so the operator norm equals σ_matrix.
        #expect(relClose(try #require(row.weight?.norms.sigmaOpUpper), expected, 1e-9))
        #expect(try #require(row.weight?.norms.sigmaOpLower) <= expected * (1 + 1e-6))
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func gemmHonoursTransposesAndAlpha(transA: Bool, transB: Bool) throws {
        var b = NetworkBuilder(seed: 33)
        let (m, k, n) = (1, 5, 3)
        let a = b.input("a", shape: transA ? [k, m] : [m, k])
        let w = b.heWeight("B", dims: transB ? [n, k] : [k, n])
        b.output(b.node("Gemm", [a, w], shape: [m, n],
                        attributes: [("transA", .int(transA ? 1 : 0)), ("transB", .int(transB ? 1 : 0)), ("alpha", .float(-2))]))
        let g = try loadGraph(b.model())
        let v = try #require(g.constants["B"]).doubles()
        // The map A ↦ op(A)·op(B): its norm is σ(op(B)) with op(B) built explicitly (K × N).
        let expected = try sigma(rows: k, cols: n) { i, j in transB ? v[j * k + i] : v[i * n + j] }
        let r = try SensitivityAnalysis.run(g, options: .init(spectral: .init(exact: true), threads: 1))
        let row = try layer(r, "Gemm")
        #expect(relClose(try #require(row.weight?.norms.sigmaMatrix), expected, 1e-9))
        #expect(relClose(row.lipschitz.operator, 2 * expected, 1e-6))
    }

    @Test func batchedMatMulIsMaxOverTheStack() throws {
        var b = NetworkBuilder(seed: 34)
        let x = b.input("x", shape: [2, 5, 3])
        let w = b.heWeight("Wb", dims: [2, 3, 4])
        b.output(b.node("MatMul", [x, w], shape: [2, 5, 4]))
        let g = try loadGraph(b.model())
        let v = try #require(g.constants["Wb"]).doubles()
        let expected = try (0..<2).map { s in try sigma(rows: 3, cols: 4) { i, j in v[s * 12 + i * 4 + j] } }.max() ?? 0
        let r = try SensitivityAnalysis.run(g, options: .init(spectral: .init(exact: true), threads: 1))
        #expect(relClose(try #require(try layer(r, "MatMul").weight?.norms.sigmaMatrix), expected, 1e-9))
    }

    @Test func diagonalScalings() throws {
        var b = NetworkBuilder(seed: 35)
        var t = b.input("x", shape: [1, 3, 2, 2])
        let gm = b.constant("g", dims: [3], values: [2, -3, 0.5]), bt = b.constant("b", dims: [3], values: [0, 0, 0])
        let mn = b.constant("m", dims: [3], values: [0, 0, 0]), vr = b.constant("v", dims: [3], values: [3, 8, 0.25])
        t = b.node("BatchNormalization", [t, gm, bt, mn, vr], shape: [1, 3, 2, 2], attributes: [("epsilon", .float(1))])
        let c = b.constant("c", dims: [1, 3, 1, 1], values: [0.5, -4, 2])
        t = b.node("Mul", [c, t], shape: [1, 3, 2, 2])
        let d = b.constant("d", dims: [3, 1, 1], values: [0.25, 2, -8])
        t = b.node("Div", [t, d], shape: [1, 3, 2, 2])
        b.output(t)
        let r = try analyze(b.model())
        let l = r.nodes.map(\.lipschitz.operator)
        // BN: max |γ/√(var+ε)| = max(2/2, 3/3, 0.5/√1.25) = 1; Mul: max|c| = 4; Div: max 1/|d| = 4.
        #expect(r.nodes.map(\.op) == ["BatchNormalization", "Mul", "Div"])
        #expect(relClose(l[0], 1, 1e-6) && relClose(l[1], 4) && relClose(l[2], 4))
        #expect(relClose(r.network.eq7.operator, 16, 1e-6))
    }

    @Test func divisionByAConstantZeroIsUnbounded() throws {
        var b = NetworkBuilder(seed: 36)
        let x = b.input("x", shape: [1, 2])
        let d = b.constant("d", dims: [2], values: [1, 0])
        b.output(b.node("Div", [x, d], shape: [1, 2]))
        let r = try analyze(b.model())
        #expect(r.network.eq7.operator == .infinity)
        #expect(r.findings.count == 1)
    }

    @Test func constantNodeAndDequantizedWeightsAreWeights() throws {
        var b = NetworkBuilder(seed: 37)
        let x = b.input("x", shape: [1, 2])
        let q = TensorSpec(name: "wq", dataType: DataType.int8.rawValue, dims: [2, 2], data: .raw([2, 0, 0, 254]))  // [[2,0],[0,-2]]
        b.graph.initializers.append(q)
        _ = b.constant("ws", dims: [], values: [0.5])
        b.graph.nodes.append(NodeSpec("DequantizeLinear", name: "dq", inputs: ["wq", "ws"], outputs: ["w"]))
        b.graph.nodes.append(NodeSpec("Constant", name: "k", inputs: [], outputs: ["k"],
                                      attributes: [("value", .tensor(.float("kv", dims: [1], values: [3])))]))
        let h = b.node("MatMul", [x, "w"], shape: [1, 2])
        b.output(b.node("Mul", [h, "k"], shape: [1, 2]))
        let r = try analyze(b.model())
        #expect(r.nodes.map(\.op) == ["MatMul", "Mul"])
        #expect(relClose(r.network.eq7.operator, 3, 1e-9))  // σ = 1 (±2 · 0.5), times 3
    }
}

/// Layers computed on one worker and on two (where the idle worker helps the big layer's passes
/// through `PassCrew`) agree bit for bit.
@Suite(.timeLimit(.minutes(2))) struct WeightLayerThreadingTests {
    /// One layer (the second worker only helps) and three (it first takes the small ones).
    @Test(arguments: [1, 3])
    func normsDoNotDependOnThreadCount(layers: Int) throws {
        var b = NetworkBuilder(seed: 41)
        var h = b.input("x", shape: [1, 1100])
        h = b.gemm(h, outFeatures: 1000)  // 1.1 M elements: the Lanczos path, 5 row groups
        if layers == 3 {
            h = b.gemm(h, outFeatures: 40)
            h = b.gemm(h, outFeatures: 10)
        }
        b.output(h)
        let g = try loadGraph(b.model())
        let one = try SensitivityAnalysis.run(g, options: .init(threads: 1))
        let two = try SensitivityAnalysis.run(g, options: .init(threads: 2))
        #expect(one.nodes.count == layers)
        for (l1, l2) in zip(one.nodes, two.nodes) {
            let n1 = try #require(l1.weight?.norms), n2 = try #require(l2.weight?.norms)
            #expect(n1.sigmaMatrix == n2.sigmaMatrix && n1.frobenius == n2.frobenius, "\(l1.node)")
            #expect(n1.matrixEstimate == n2.matrixEstimate, "\(l1.node)")
        }
        #expect(one.nodes.contains { $0.weight?.norms.matrixEstimate?.method == .lanczos })
    }
}
