// TEMPORARY stand-in for the Linalg API being written on branch `linalg`.
// Same public names and signatures; deleted when that branch is merged.
import CBLAS
import CLAPACKE
import Foundation

public enum LinalgError: Error, LocalizedError, Sendable {
    case lapack(routine: String, info: Int32)
    case invalidShape(String)
    public var errorDescription: String? {
        switch self {
        case let .lapack(r, i): return "LAPACK \(r) failed (info = \(i))"
        case let .invalidShape(m): return "invalid shape: \(m)"
        }
    }
}

public enum BLAS {
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(n, 1))) }
}

public enum Frobenius {
    public static func norm(_ x: UnsafeBufferPointer<Float>) -> Double {
        var s = 0.0
        for v in x { s += Double(v) * Double(v) }
        return s.squareRoot()
    }
}

public struct SpectralOptions: Sendable {
    public var tolerance: Double
    public var maxIterations: Int
    public var exact: Bool
    public var exactThreshold: Int
    public var seed: UInt64
    public init(tolerance: Double = 1e-6, maxIterations: Int = 500, exact: Bool = false,
                exactThreshold: Int = 1 << 20, seed: UInt64 = 42) {
        self.tolerance = tolerance; self.maxIterations = maxIterations; self.exact = exact
        self.exactThreshold = exactThreshold; self.seed = seed
    }
}

public struct SpectralEstimate: Sendable, Equatable {
    public enum Method: String, Sendable { case exact, lanczos, power }
    public var sigma: Double
    public var iterations: Int
    public var achievedTolerance: Double
    public var method: Method
    public init(sigma: Double, iterations: Int, achievedTolerance: Double, method: Method) {
        self.sigma = sigma; self.iterations = iterations; self.achievedTolerance = achievedTolerance; self.method = method
    }
}

public enum SpectralNorm {
    public static func largest(_ data: UnsafeBufferPointer<Float>, rows: Int, cols: Int, blocks: Int = 1,
                               options: SpectralOptions = .init()) throws(LinalgError) -> SpectralEstimate {
        guard rows >= 1, cols >= 1, blocks >= 1, rows * cols * blocks == data.count else {
            throw .invalidShape("\(blocks) × \(rows) × \(cols) vs \(data.count) elements")
        }
        var best = SpectralEstimate(sigma: 0, iterations: 0, achievedTolerance: 0, method: .exact)
        for b in 0..<blocks {
            let off = b * rows * cols
            let a = (0..<(rows * cols)).map { Double(data[off + $0]) }
            let est: SpectralEstimate
            if options.exact || rows * cols <= options.exactThreshold {
                let s = try singularValues(a, rows: rows, cols: cols)
                est = SpectralEstimate(sigma: s.first ?? 0, iterations: 0, achievedTolerance: 0, method: .exact)
            } else {
                est = power(a, rows: rows, cols: cols, options: options)
            }
            if est.sigma > best.sigma || b == 0 { best = est }
            if est.sigma.isNaN { return est }
        }
        return best
    }

    static func power(_ a: [Double], rows: Int, cols: Int, options: SpectralOptions) -> SpectralEstimate {
        var v = (0..<cols).map { Double((($0 &* 2654435761) % 1000)) / 1000 + 0.1 }
        var sigma = 0.0, it = 0, tol = 1.0
        while it < options.maxIterations {
            it += 1
            var u = [Double](repeating: 0, count: rows)
            for i in 0..<rows { var s = 0.0; for j in 0..<cols { s += a[i * cols + j] * v[j] }; u[i] = s }
            var w = [Double](repeating: 0, count: cols)
            for i in 0..<rows { for j in 0..<cols { w[j] += a[i * cols + j] * u[i] } }
            let nw = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard nw > 0 else { return SpectralEstimate(sigma: 0, iterations: it, achievedTolerance: 0, method: .power) }
            let s = nw.squareRoot()
            tol = abs(s - sigma) / s
            sigma = s
            v = w.map { $0 / nw }
            if tol < options.tolerance { break }
        }
        return SpectralEstimate(sigma: sigma, iterations: it, achievedTolerance: tol, method: .power)
    }

    public static func singularValues(_ a: [Double], rows: Int, cols: Int) throws(LinalgError) -> [Double] {
        guard rows * cols == a.count, rows >= 1, cols >= 1 else { throw .invalidShape("\(rows)×\(cols)") }
        var m = a
        var s = [Double](repeating: 0, count: min(rows, cols))
        var u = [Double](repeating: 0, count: 1), vt = [Double](repeating: 0, count: 1)
        let info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int32(cols), Int32(rows), &m, Int32(cols),
                                  &s, &u, 1, &vt, 1)
        guard info == 0 else { throw .lapack(routine: "dgesdd", info: info) }
        return s
    }
}

public struct ConvGeometry: Sendable, Equatable {
    public var inChannels: Int, outChannels: Int, groups: Int
    public var input: [Int], kernel: [Int], strides: [Int], dilations: [Int]
    public var padsBegin: [Int], padsEnd: [Int], output: [Int]
    public var transposed: Bool
    public init(inChannels: Int, outChannels: Int, groups: Int, input: [Int], kernel: [Int], strides: [Int],
                dilations: [Int], padsBegin: [Int], padsEnd: [Int], output: [Int], transposed: Bool = false) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.groups = groups
        self.input = input; self.kernel = kernel; self.strides = strides; self.dilations = dilations
        self.padsBegin = padsBegin; self.padsEnd = padsEnd; self.output = output; self.transposed = transposed
    }
    public var inputCount: Int { inChannels * input.reduce(1, *) }
    public var outputCount: Int { outChannels * output.reduce(1, *) }
    public var overlapCount: Int {
        var c = 1
        for a in 0..<kernel.count {
            let big = transposed ? output[a] : input[a], small = transposed ? input[a] : output[a]
            var counts = [Int](repeating: 0, count: big)
            for i in 0..<small { for j in 0..<kernel[a] {
                let p = i * strides[a] + j * dilations[a] - padsBegin[a]
                if p >= 0 && p < big { counts[p] += 1 }
            } }
            c *= counts.max() ?? 0
        }
        return c
    }
}

/// Naive direct convolution (stub): y = A x and its adjoint.
public final class ConvOperator: @unchecked Sendable {
    public let geometry: ConvGeometry
    let w: [Float]
    public init(geometry: ConvGeometry, weight: UnsafeBufferPointer<Float>) throws(LinalgError) {
        self.geometry = geometry
        w = Array(weight)
    }
    // Conv view: big side (cB channels, extent bigE), small side (cS, smallE), weight (cS, cB/g, k…).
    private func loop(_ body: (_ s: Int, _ b: Int, _ wi: Int) -> Void) {
        let g = geometry
        let r = g.kernel.count
        let bigE = g.transposed ? g.output : g.input, smallE = g.transposed ? g.input : g.output
        let cB = g.transposed ? g.outChannels : g.inChannels, cS = g.transposed ? g.inChannels : g.outChannels
        let bg = cB / g.groups, sg = cS / g.groups
        let kc = g.kernel.reduce(1, *), sc = smallE.reduce(1, *), bc = bigE.reduce(1, *)
        for m in 0..<cS {
            let grp = m / sg
            for si in 0..<sc {
                var idx = [Int](repeating: 0, count: r); var t = si
                for a in (0..<r).reversed() { idx[a] = t % smallE[a]; t /= smallE[a] }
                for kj in 0..<kc {
                    var kk = [Int](repeating: 0, count: r); var u = kj
                    for a in (0..<r).reversed() { kk[a] = u % g.kernel[a]; u /= g.kernel[a] }
                    var bp = 0; var ok = true
                    for a in 0..<r {
                        let p = idx[a] * g.strides[a] + kk[a] * g.dilations[a] - g.padsBegin[a]
                        if p < 0 || p >= bigE[a] { ok = false; break }
                        bp = bp * bigE[a] + p
                    }
                    if !ok { continue }
                    for cl in 0..<bg {
                        let c = grp * bg + cl
                        body(m * sc + si, c * bc + bp, (m * bg + cl) * kc + kj)
                    }
                }
            }
        }
    }
    public func apply(_ x: [Float], batch: Int = 1) -> [Float] {
        var y = [Float](repeating: 0, count: geometry.outputCount)
        if geometry.transposed { loop { s, b, wi in y[b] += w[wi] * x[s] } } else { loop { s, b, wi in y[s] += w[wi] * x[b] } }
        return y
    }
    public func adjoint(_ y: [Float], batch: Int = 1) -> [Float] {
        var x = [Float](repeating: 0, count: geometry.inputCount)
        if geometry.transposed { loop { s, b, wi in x[s] += w[wi] * y[b] } } else { loop { s, b, wi in x[b] += w[wi] * y[s] } }
        return x
    }
}

public struct OperatorNormEstimate: Sendable, Equatable {
    public var lower: Double, upper: Double, iterations: Int, achievedTolerance: Double
    public init(lower: Double, upper: Double, iterations: Int, achievedTolerance: Double) {
        self.lower = lower; self.upper = upper; self.iterations = iterations; self.achievedTolerance = achievedTolerance
    }
}

public enum OperatorNorm {
    public static func convolution(_ op: ConvOperator, matrixSigma: Double, options: SpectralOptions = .init()) -> OperatorNormEstimate {
        var v = (0..<op.geometry.inputCount).map { Float((($0 &* 2654435761) % 1000)) / 1000 + 0.1 }
        var lower = 0.0, it = 0, tol = 1.0
        while it < min(options.maxIterations, 100) {
            it += 1
            let nv = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            guard nv > 0 else { break }
            v = v.map { Float(Double($0) / nv) }
            let u = op.apply(v)
            let s = u.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            tol = abs(s - lower) / max(s, 1e-300)
            lower = max(lower, s)
            v = op.adjoint(u)
            if tol < options.tolerance { break }
        }
        let upper = Double(op.geometry.overlapCount).squareRoot() * matrixSigma
        return OperatorNormEstimate(lower: lower, upper: max(upper, lower), iterations: it, achievedTolerance: tol)
    }
}
