import Dispatch
import Foundation
import Linalg
import ONNX

extension WeightLayer {
    /// Frobenius norm, σ_matrix (spectral norm of the matrix view, in place on the float32
    /// weight: no copy for FLOAT tensors) and the σ_op interval:
    /// - convolutions, `mode == .operator`, known input shape: power iteration / Lanczos on
    ///   AᵀA through the convolution and its adjoint (`OperatorNorm.convolution`);
    /// - convolutions otherwise: [nil, √c·σ_matrix], c = `overlap`, a rigorous upper bound
    ///   (‖Ax‖² = Σ_windows ‖W·patch‖² ≤ σ²·Σ‖patch‖² ≤ σ²·c‖x‖²);
    /// - Gemm/MatMul and diagonal scalings: σ_op = σ_matrix.
    public func computeNorms(mode: NormMode, options: SpectralOptions) -> WeightNorms {
        var r = WeightNorms()
        switch view {
        case let .diagonal(s, gain):
            let bad = s.filter { !$0.isFinite }.count + weight.nonFiniteCount()
            if bad > 0 {
                r.nonFinite = bad
                r.failure = "the scaling holds \(bad) NaN or infinite value\(bad == 1 ? "" : "s")"
                return r
            }
            r.frobenius = s.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let m = gain
            r.sigmaMatrix = m
            r.matrixEstimate = SpectralEstimate(sigma: m, iterations: 0, achievedTolerance: 0, method: .exact)
            r.sigmaOpLower = m
            r.sigmaOpUpper = m
        case let .matrix(rows, cols, blocks):
            do {
                var bad = 0
                let estimate = try weight.withFloats { p throws(LinalgError) -> SpectralEstimate? in
                    // The float64 sum of float32 squares cannot overflow (see `Frobenius`): it is
                    // finite exactly when every value is, so the count runs only when it is not.
                    let squares = Frobenius.sumOfSquares(p)
                    if !squares.isFinite {
                        bad = weight.nonFiniteCount()
                        if bad > 0 { return nil }
                    }
                    let frobenius = squares.squareRoot()
                    r.frobenius = frobenius
                    return try SpectralNorm.largest(p, rows: rows, cols: cols, blocks: blocks, options: options,
                                                    frobenius: blocks == 1 ? frobenius : nil)
                }
                guard let est = estimate else {
                    r.nonFinite = bad
                    r.failure = "weight '\(weight.name)' holds \(bad) NaN or infinite value\(bad == 1 ? "" : "s")"
                    return r
                }
                r.matrixEstimate = est
                r.sigmaMatrix = est.sigma
                if let c = overlap {
                    r.sigmaOpUpper = Double(c).squareRoot() * est.sigma
                    // The iteration keeps a few vectors of the input and output sizes: above
                    // 2²⁷ elements (0.5 GiB each) the proven √c·σ_matrix stands alone.
                    if mode == .operator, let geo = conv, geo.inputCount + geo.outputCount <= 1 << 27 {
                        let floats = weight.stableFloats()
                        let conv = try ConvOperator(geometry: geo, weight: floats.pointer, owner: floats)
                        let op = OperatorNorm.convolution(conv, matrixSigma: est.sigma, options: options)
                        r.sigmaOpLower = op.lower
                        r.sigmaOpUpper = min(op.upper, Double(c).squareRoot() * est.sigma)
                        r.operatorIterations = op.iterations
                        r.operatorTolerance = op.achievedTolerance
                    }
                } else {
                    r.sigmaOpLower = est.sigma
                    r.sigmaOpUpper = est.sigma
                }
            } catch {
                r.failure = "norm computation failed: \(error.localizedDescription)"
            }
        }
        return r
    }
}

/// Results written by worker threads, each slot once; read after all workers finished.
final class NormSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [WeightNorms?]
    private var next = 0
    private var done = 0

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < results.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ r: WeightNorms, at i: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        results[i] = r
        done += 1
        return done
    }

    var all: [WeightNorms] { lock.lock(); defer { lock.unlock() }; return results.map { $0 ?? WeightNorms(failure: "not computed") } }
}

extension WeightLayers {
    /// Computes every layer's norms. Layers are independent, so `threads` workers take them
    /// largest first (BLAS itself single-threaded inside); a worker left without layers joins the
    /// ``PassCrew`` and takes row groups of the dense Gram passes still running (results are
    /// bit-identical to a serial run). The result order is the input order.
    public static func computeNorms(_ layers: [WeightLayer], mode: NormMode, options: SpectralOptions, threads: Int,
                                    progress: (@Sendable (Int, Int, String) -> Void)? = nil) -> [WeightNorms] {
        let order = layers.indices.sorted { cost(layers[$0], mode: mode) > cost(layers[$1], mode: mode) }
        // All `threads` workers even when there are fewer layers: the spare ones help at once.
        // One BLAS thread per worker; the caller's setting is back in force afterwards (DeepFool
        // and the engine run later in the same process).
        return BLAS.withSingleThread {
            computeNormsSingleThreaded(layers, order: order, mode: mode, options: options, workers: max(1, threads), progress: progress)
        }
    }

    static func computeNormsSingleThreaded(_ layers: [WeightLayer], order: [Int], mode: NormMode, options: SpectralOptions, workers: Int,
                                           progress: (@Sendable (Int, Int, String) -> Void)?) -> [WeightNorms] {
        let slots = NormSlots(count: layers.count)
        // A worker that runs out of layers helps the ones still running with their passes.
        var shared = options
        let crew = PassCrew()
        if workers > 1 { shared.crew = crew }
        DispatchQueue.concurrentPerform(iterations: workers) { [shared] _ in
            while true {
                crew.enter()
                guard let k = slots.take() else { crew.leave(); break }
                let i = order[k]
                let r = layers[i].computeNorms(mode: mode, options: shared)
                crew.leave()
                let done = slots.store(r, at: i)
                progress?(done, layers.count, layers[i].node)
            }
            crew.help()
        }
        return slots.all
    }

    /// Relative work of a layer, for the largest-first order: the matrix norm streams the weight
    /// (∝ its size); in operator mode a convolution's iterations each apply the map and its
    /// adjoint, 2·(weight size × windows) multiply-adds. Iteration counts are unknown in advance.
    static func cost(_ l: WeightLayer, mode: NormMode) -> Double {
        let matrix = Double(l.weight.count)
        guard mode == .operator, l.overlap != nil, let g = l.conv else { return matrix }
        let windows = (g.transposed ? g.input : g.output).reduce(1.0) { $0 * Double($1) }
        return matrix + 2 * Double(g.weightCount) * windows
    }
}
