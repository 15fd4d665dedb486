// The certified symbol bounds (exact and coarse grids) and the packet lower bound against LAPACK
// on the dense impulse-response matrix, on a grid of 64 small convolutions.
import Foundation
import Testing
@testable import Linalg

/// A small convolution with its own weights (nil: Gaussian from the seed).
struct CertCase: CustomStringConvertible, Sendable {
    var conv: ConvCase
    var weights: [Float]? = nil
    var description: String { conv.name }
    func weight() -> [Float] { weights ?? conv.weight(seed: 53) }
}

/// Hand-picked small-n cases, where circulant arguments are most likely to go wrong, then 56 seeded
/// random geometries: rank 1–3, kernels 1–4 (1–3 in 3-D), strides 1–3, dilations 1–2, every
/// begin/end padding from 0 to k − 1, groups 1, 2 and depthwise, Conv and ConvTranspose (with
/// output padding), at most 360 inputs and outputs so that the dense SVD stays cheap.
let certCases: [CertCase] = {
    func c(_ name: String, _ inC: Int, _ outC: Int, _ groups: Int, _ input: [Int], _ kernel: [Int], _ strides: [Int],
           _ dilations: [Int], _ pb: [Int], _ pe: [Int], transposed: Bool = false, outputPadding: [Int]? = nil) -> ConvCase {
        ConvCase(name: name, inC: inC, outC: outC, groups: groups, input: input, kernel: kernel, strides: strides,
                 dilations: dilations, padsBegin: pb, padsEnd: pe, transposed: transposed, outputPadding: outputPadding)
    }
    var cases: [CertCase] = [
        // y = [x0 − x1, x1 − x2, x2]: σ = 2cos(π/7) = 1.80194 while the symbol's maximum is 2; the
        // circulant of period n = 3 would give √3 < σ (wrong), the exact period is 4.
        CertCase(conv: c("[1,-1] n=3 pads(0,1)", 1, 1, 1, [3], [2], [1], [1], [0], [1]), weights: [1, -1]),
        CertCase(conv: c("[1,1] n=3 valid", 1, 1, 1, [3], [2], [1], [1], [0], [0]), weights: [1, 1]),
        CertCase(conv: c("[1,-1] n=2 full", 1, 1, 1, [2], [2], [1], [1], [1], [1]), weights: [1, -1]),
        CertCase(conv: c("[1,2,1] n=1 same", 1, 1, 1, [1], [3], [1], [1], [1], [1]), weights: [1, 2, 1]),
        CertCase(conv: c("[1,0,-1] n=4 d2 pads(2,2)", 1, 1, 1, [4], [3], [1], [2], [2], [2]), weights: [1, 0, -1]),
        CertCase(conv: c("2x2 ones n=2x3 same-ish", 1, 1, 1, [2, 3], [2, 2], [1, 1], [1, 1], [1, 0], [0, 1]), weights: [1, 1, 1, 1]),
        CertCase(conv: c("T [1,-1] n=3 s2", 1, 1, 1, [3], [2], [2], [1], [0], [0], transposed: true), weights: [1, -1]),
        CertCase(conv: c("[1,1,1] n=2 s3 pads(2,2)", 1, 1, 1, [2], [3], [3], [1], [2], [2]), weights: [1, 1, 1]),
    ]
    var r = TestRandom(2024)
    func pick(_ n: Int) -> Int { Int(r.next() % UInt64(n)) }
    var made = 0
    while made < 56 {
        let rank = [1, 1, 2, 2, 2, 3][pick(6)]
        let kernel = (0..<rank).map { _ in 1 + pick(rank == 3 ? 3 : 4) }
        let strides = (0..<rank).map { _ in 1 + pick(3) }
        let dilations = (0..<rank).map { a in kernel[a] > 1 && pick(3) == 0 ? 2 : 1 }
        let pb = (0..<rank).map { a in pick(kernel[a]) }, pe = (0..<rank).map { a in pick(kernel[a]) }
        let maxExtent = rank == 1 ? 14 : (rank == 2 ? 7 : 4)
        let input = (0..<rank).map { _ in 1 + pick(maxExtent) }
        let groups = [1, 1, 1, 2, 0][pick(5)]   // 0: depthwise
        let base = 1 + pick(3)
        let g = groups == 0 ? base : groups
        let inC = groups == 0 ? base : g * (1 + pick(2)), outC = groups == 0 ? base * (1 + pick(2)) : g * (1 + pick(2))
        let transposed = pick(4) == 0
        var cc = c("", inC, outC, g, input, kernel, strides, dilations, pb, pe, transposed: transposed,
                   outputPadding: transposed ? strides.map { s in pick(s) } : nil)
        let geo = cc.geometry
        guard (try? geo.validate()) != nil, geo.inputCount <= 360, geo.outputCount <= 360 else { continue }
        if transposed, zip(cc.outputPadding ?? [], zip(strides, dilations)).contains(where: { $0 >= max($1.0, $1.1) }) { continue }
        made += 1
        cc.name = "\(transposed ? "T " : "")\(rank)d#\(made) c\(inC)→\(outC) g\(g) n\(input) k\(kernel) s\(strides) d\(dilations) p\(pb)/\(pe)"
        cases.append(CertCase(conv: cc))
    }
    return cases
}()

/// The certified bound of every group over `grid` (√ of the certified max b², before and after the
/// smooth-grid correction).
func certifiedBound(_ op: ConvOperator, _ make: (SymbolGrid, SymbolGram) -> CertificationGrid?) throws -> (value: Double, bound: Double)? {
    let g = op.geometry, grid = SymbolGrid(g)
    guard !grid.taps.isEmpty else { return (0, 0) }
    var value = 0.0, bound = 0.0
    for gr in 0..<g.groups {
        guard let gram = SymbolGram(op, grid: grid, group: gr), let cg = make(grid, gram) else { return nil }
        guard let out = try SymbolCertificate.certify(gram, grid: cg, seed: 5, crew: nil) else { return nil }
        value = max(value, out.squaredBound.squareRoot())
        bound = max(bound, out.squaredBound.squareRoot() * cg.correction)
    }
    return (value, bound)
}

/// Applies the gather map (big → small) or its adjoint.
func gatherNorm(_ op: ConvOperator, _ x: [Double], bigSide: Bool) -> Double {
    let f = x.map { Float($0) }
    let useApply = bigSide != op.geometry.transposed
    let y = useApply ? op.apply(f) : op.adjoint(f)
    return norm2(y)
}

@Suite struct CertifiedBoundTests {
    /// The dense gather matrix's σ_max by dgesdd (float64; the impulse matrix of one float32 weight per
    /// entry is exact).
    func exactNorm(_ op: ConvOperator) -> Double {
        let g = op.geometry
        return referenceSigma(denseByImpulses(op).map(Float.init), rows: g.outputCount, cols: g.inputCount)
    }

    @Test func gridIsLargeAndCoversEverything() {
        #expect(certCases.count >= 60)
        let g = certCases.map(\.conv)
        #expect(Set(g.map(\.kernel.count)) == [1, 2, 3])
        #expect(g.contains { $0.transposed } && g.contains { $0.groups > 1 } && g.contains { $0.groups == $0.inC && $0.groups > 1 })
        #expect(g.contains { $0.strides.contains(3) } && g.contains { $0.dilations.contains(2) })
        #expect(g.contains { zip($0.padsBegin, $0.padsEnd).contains { $0 != $1 } })
    }

    /// The closed form of the first case: A = [[1,−1,0],[0,1,−1],[0,0,1]], σ = 2cos(π/7).
    @Test func differenceOnThreePoints() throws {
        let c = certCases[0], w = c.weight()
        let op = try ConvOperator(geometry: c.conv.geometry, copying: w)
        let exact = exactNorm(op)
        #expect(abs(exact - 2 * cos(Double.pi / 7)) <= 1e-12)
        let exactGrid = try #require(try certifiedBound(op) { grid, _ in CertificationGrid.exact(grid) })
        #expect(CertificationGrid.exact(SymbolGrid(c.conv.geometry)).counts == [4])
        #expect(exactGrid.bound >= 2 * (1 - 1e-12) && exactGrid.bound <= 2 * (1 + 1e-6))   // the maximum 2 at ω = π is on ℤ₄
        let e = OperatorNorm.convolution(op, matrixSigma: 2.0.squareRoot(), options: .init(symbolFlopBudget: 0, lanczosFlopBudget: 0))
        #expect(e.upper >= exact && e.lower <= exact * (1 + 1e-6) && e.lower >= exact * (1 - 1e-4), "\(e)")
    }

    /// Exact grid and smooth grids at 3 %, 25 % and 100 % correction (ε = 1 is r = π/3: on very coarse
    /// grids the uncorrected maximum is often below σ, so the correction is what makes it a bound),
    /// each ≥ σ_exact·(1 − 1e-12); and the whole estimate on the certified path (packet lower end,
    /// Lanczos refinement): exact ≤ upper·(1 + 1e-12), lower ≤ exact·(1 + 1e-6) (float32 products).
    @Test(arguments: certCases)
    func certifiedBoundsContainTheNorm(_ c: CertCase) throws {
        let g = c.conv.geometry, w = c.weight()
        let op = try ConvOperator(geometry: g, copying: w)
        let exact = exactNorm(op)
        let exactGrid = try #require(try certifiedBound(op) { grid, _ in CertificationGrid.exact(grid) })
        #expect(exact <= exactGrid.bound * (1 + 1e-12), "\(c): exact grid \(exactGrid.bound) < σ \(exact)")
        var report = "CERT \(c) | σ \(exact) | exact-grid/σ \(exactGrid.bound / exact)"
        for slack in [0.03, 0.25, 1.0] {
            let s = try #require(try certifiedBound(op) { _, gram in CertificationGrid.smooth(spans: gram.spans, slack: slack) })
            #expect(exact <= s.bound * (1 + 1e-12), "\(c): smooth \(slack) bound \(s.bound) < σ \(exact)")
            #expect(s.value <= s.bound)
            report += " | smooth\(slack) grid-max/σ \(s.value / exact) bound/σ \(s.bound / exact)"
        }
        let sm = try matrixSigma(g, w)
        let e = OperatorNorm.convolution(op, matrixSigma: sm, options: .init(symbolFlopBudget: 0, lanczosFlopBudget: 0))
        #expect(exact <= e.upper * (1 + 1e-12) && e.lower <= exact * (1 + 1e-6), "\(c): [\(e.lower), \(e.upper)] vs \(exact)")
        #expect(e.upperMethod != .symbol)
        if let s = e.symbolUpper { #expect(exact <= s * (1 + 1e-12)) }
        report += " | estimate upper/σ \(e.upper / exact) lower/σ \(e.lower / exact) upper/lower \(e.upper / e.lower) (\(e.upperMethod.rawValue), \(e.lowerMethod.rawValue))"
        print(report)
    }

    /// The packet theorem's identity: ‖A·x‖²/‖x‖² for the packet x = x_re + i·x_im, measured with the
    /// float32 operator (‖A x_re‖² + ‖A x_im‖²), equals the bound computed from the Gram coefficients
    /// (relative 1e-5), and is ≤ σ_exact.
    @Test(arguments: certCases)
    func packetIdentityHolds(_ c: CertCase) throws {
        let g = c.conv.geometry, w = c.weight()
        let op = try ConvOperator(geometry: g, copying: w)
        let grid = SymbolGrid(g)
        guard !grid.taps.isEmpty else { return }
        let exact = exactNorm(op)
        for gr in 0..<g.groups {
            let gram = try #require(SymbolGram(op, grid: grid, group: gr))
            guard let packet = try PacketLowerBound.compute(gram, grid: grid, geometry: g, start: g.kernel.map { _ in 0.7 },
                                                           startVector: nil, seed: 3) else { continue }
            let (re, im) = PacketLowerBound.complexVector(packet, gram: gram, grid: grid, geometry: g)
            let big = gram.side == .big
            let num = pow(gatherNorm(op, re, bigSide: big), 2) + pow(gatherNorm(op, im, bigSide: big), 2)
            let den = re.reduce(0) { $0 + $1 * $1 } + im.reduce(0) { $0 + $1 * $1 }
            let measured = (num / den).squareRoot()
            #expect(abs(measured - packet.lower) <= 1e-5 * max(measured, 1e-30), "\(c) group \(gr): measured \(measured), packet \(packet.lower)")
            #expect(packet.lower <= exact * (1 + 1e-9), "\(c): packet \(packet.lower) > σ \(exact)")
        }
    }

    /// The Cholesky certificate: on a matrix with known top eigenvalue λ, a level just above λ passes
    /// and one just below fails.
    @Test func choleskyDecidesTheLevel() throws {
        let p = 40
        var r = TestRandom(8)
        let k = (0..<(2 * p * p)).map { _ in r.normal() }
        // G = KᴴK (row-major upper), λ by dgesdd of the real embedding.
        let g = UnsafeMutablePointer<Double>.allocate(capacity: 2 * p * p + LAPACK.slack)
        let h = UnsafeMutablePointer<Double>.allocate(capacity: 2 * p * p + LAPACK.slack)
        defer { g.deallocate(); h.deallocate() }
        k.withUnsafeBufferPointer { BLAS.zherk(conjugateFirst: true, n: p, k: p, a: $0.baseAddress!, lda: p, c: g, ldc: p) }
        var real = [Float](repeating: 0, count: 4 * p * p)
        for i in 0..<p { for j in 0..<p {
            let (a, b) = (k[2 * (i * p + j)], k[2 * (i * p + j) + 1])
            real[i * 2 * p + j] = Float(a); real[i * 2 * p + p + j] = Float(-b)
            real[(p + i) * 2 * p + j] = Float(b); real[(p + i) * 2 * p + p + j] = Float(a)
        } }
        // The float32 copy changes K slightly; rebuild G from it so that both agree.
        var kf = [Double](repeating: 0, count: 2 * p * p)
        for i in 0..<p { for j in 0..<p { kf[2 * (i * p + j)] = Double(real[i * 2 * p + j]); kf[2 * (i * p + j) + 1] = Double(real[(p + i) * 2 * p + j]) } }
        kf.withUnsafeBufferPointer { BLAS.zherk(conjugateFirst: true, n: p, k: p, a: $0.baseAddress!, lda: p, c: g, ldc: p) }
        let sigma = referenceSigma(real, rows: 2 * p, cols: 2 * p)
        let lambda = sigma * sigma
        for (level, passes) in [(lambda * (1 + 1e-9), true), (lambda * (1 - 1e-9), false)] {
            for i in 0..<p { for j in i..<p {
                h[2 * (i * p + j)] = (i == j ? level : 0) - g[2 * (i * p + j)]
                h[2 * (i * p + j) + 1] = i == j ? 0 : -g[2 * (i * p + j) + 1]
            } }
            #expect(try LAPACK.choleskySucceeds(h, order: p) == passes, "level \(level) vs λ \(lambda)")
        }
    }

    /// The coefficients reproduce the symbol's Gram matrix: G(ω) assembled from P_Δ, Q_Δ equals
    /// K̂(ω)ᴴK̂(ω) (or K̂K̂ᴴ) formed directly, at off-grid frequencies (relative 1e-12 of ‖G‖_F).
    @Test(arguments: certCases.prefix(24))
    func coefficientsReproduceTheGram(_ c: CertCase) throws {
        let g = c.conv.geometry, w = c.weight()
        let op = try ConvOperator(geometry: g, copying: w)
        let grid = SymbolGrid(g)
        guard !grid.taps.isEmpty else { return }
        let gram = try #require(SymbolGram(op, grid: grid, group: 0))
        let p = gram.order, rows = g.smallChannels / g.groups, cols = g.bigChannels / g.groups * grid.phaseCount
        let omega = g.kernel.indices.map { 0.37 + 1.3 * Double($0) }
        let tw = grid.taps.map { tap -> (Double, Double) in
            let x = zip(omega, tap.shifts).reduce(0.0) { $0 + $1.0 * Double($1.1) }
            return (cos(x), -sin(x))
        }
        let symbol = UnsafeMutablePointer<Double>.allocate(capacity: 2 * rows * cols + LAPACK.slack)
        let direct = UnsafeMutablePointer<Double>.allocate(capacity: 2 * p * p + LAPACK.slack)
        let assembled = UnsafeMutablePointer<Double>.allocate(capacity: 2 * p * p + LAPACK.slack)
        defer { symbol.deallocate(); direct.deallocate(); assembled.deallocate() }
        SymbolBound.fill(symbol, op: op, group: 0, rows: rows, groupChannels: g.bigChannels / g.groups, grid: grid, twiddles: tw)
        BLAS.zherk(conjugateFirst: cols <= rows, n: p, k: max(rows, cols), a: symbol, lda: cols, c: direct, ldc: p)
        let a = gram.lags.map { lag in cos(zip(omega, lag).reduce(0.0) { $0 + $1.0 * Double($1.1) }) }
        let b = gram.lags.map { lag in sin(zip(omega, lag).reduce(0.0) { $0 + $1.0 * Double($1.1) }) }
        gram.assembleHermitian(a: a, b: b, into: assembled, ld: p)
        var diff = 0.0, size = 0.0
        for i in 0..<p { for j in i..<p { for part in 0..<2 {
            let x = direct[2 * (i * p + j) + part], y = assembled[2 * (i * p + j) + part]
            diff = max(diff, abs(x - y)); size += x * x
        } } }
        #expect(diff <= 1e-12 * max(size.squareRoot(), 1e-300), "\(c): |ΔG| \(diff), ‖G‖ \(size.squareRoot())")
    }

    /// The checkerboard keeps the covering radius: every point of a fine sample of the torus is within
    /// weighted-ℓ¹ distance r of a grid point (a lift of it), for 2-D and 3-D spans.
    @Test(arguments: [[2, 2], [2, 1], [4, 2], [2, 2, 2], [1, 2, 3]])
    func checkerboardCoversTheTorus(_ spans: [Int]) throws {
        let cg = try #require(CertificationGrid.smooth(spans: spans, slack: 0.1))
        #expect(cg.checkerboard)
        var all = Set(cg.points)
        for k in cg.points { all.insert(zip(k, cg.counts).map { ($1 - $0) % $1 }) }
        var r = TestRandom(77)
        for _ in 0..<2000 {
            let x = spans.indices.map { _ in 2 * Double.pi * r.uniform() }
            var best = Double.infinity
            for k in all {
                var dist = 0.0
                for a in spans.indices {
                    let w = 2 * Double.pi * Double(k[a]) / Double(cg.counts[a])
                    var d = abs(x[a] - w).truncatingRemainder(dividingBy: 2 * Double.pi)
                    d = min(d, 2 * Double.pi - d)
                    dist += Double(spans[a]) / 2 * d
                }
                best = min(best, dist)
            }
            #expect(best <= cg.radius * (1 + 1e-12), "\(spans): \(x) at \(best) > r \(cg.radius)")
        }
    }
}

/// The certified path with idle helpers taking certification chunks: bit-identical to one thread.
@Suite(.timeLimit(.minutes(2))) struct CertifiedCrewTests {
    @Test func certificatesAreBitIdenticalWithHelpers() throws {
        let c = ConvCase(name: "2d k3 c12", inC: 12, outC: 10, groups: 1, input: [9, 8], kernel: [3, 3], strides: [1, 1],
                         dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1])
        let g = c.geometry, w = c.weight(seed: 9)
        try w.withUnsafeBufferPointer { wb in
            let op = try ConvOperator(geometry: g, weight: wb, owner: nil)
            let grid = SymbolGrid(g)
            let gram = try #require(SymbolGram(op, grid: grid, group: 0))
            let cg = try #require(CertificationGrid.smooth(spans: gram.spans, slack: 0.01))
            let alone = try #require(try SymbolCertificate.certify(gram, grid: cg, seed: 4, crew: nil))
            let crew = PassCrew()
            crew.enter()
            let finished = DispatchSemaphore(value: 0)
            Thread { crew.help(); finished.signal() }.start()
            let deadline = Date().addingTimeInterval(10)
            while crew.idleHelpers < 1 && Date() < deadline { usleep(1000) }
            let shared = try #require(try SymbolCertificate.certify(gram, grid: cg, seed: 4, crew: crew))
            crew.leave()
            #expect(finished.wait(timeout: .now() + 10) == .success)
            #expect(alone.squaredBound == shared.squaredBound && alone.bestPoint == shared.bestPoint
                    && alone.bestEstimate == shared.bestEstimate && alone.factorizations == shared.factorizations)
        }
    }

    /// The cost estimate used for scheduling ranks VGG-19's 512-channel layers at 14² above its
    /// 64-channel ones at 224² (the certified path's cost is in the frequencies × p³, not in A's size).
    @Test func costEstimateFollowsTheCertifiedPath() {
        func vgg(_ c: Int, _ n: Int) -> ConvGeometry {
            ConvGeometry(inChannels: c, outChannels: c, groups: 1, input: [n, n], kernel: [3, 3], strides: [1, 1],
                         dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], output: [n, n])
        }
        let big = OperatorNorm.estimatedFlops(vgg(512, 14)), small = OperatorNorm.estimatedFlops(vgg(64, 224))
        #expect(big > 10 * small && small > 0, "\(big) vs \(small)")
    }
}
