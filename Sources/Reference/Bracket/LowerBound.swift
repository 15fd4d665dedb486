import Foundation
import ONNX
import Sensitivity

/// The lower end ℓ of the bracket [ℓ, L] (DESIGN.md §1.8): the largest local Jacobian norm
/// ‖J(x)‖₂ found at points x of the input domain. Any such value is a certified lower bound of
/// the Lipschitz constant on the domain: for a point x where f is differentiable and a unit u,
/// ‖J(x)ᵀu‖ = lim ‖f(x + tv) − f(x)‖/t along v = J(x)ᵀu/‖J(x)ᵀu‖ ≤ L_D (up to the float32
/// rounding of the one reverse pass that evaluates it).
///
/// Search (seeded; within a wall-clock budget):
/// 1. points: the domain box's centre and uniform random points of the box;
/// 2. at each point, ‖J(x)‖₂ by power iteration on JJᵀ: J·v by central differences (two forward
///    passes), Jᵀ·u exactly (one reverse pass); every Jᵀu evaluated is a certificate
///    ‖J(x)ᵀu‖/‖u‖ ≤ ‖J(x)‖₂. An output of at most 64 values takes the exact Jacobian instead
///    (one reverse pass with one cotangent row per output) and the top eigenvector of JJᵀ;
/// 3. ascent from the best point: simultaneous-perturbation (SPSA) gradient steps on
///    φ(x) = ‖J(x)ᵀu*‖ inside the box, u* from the best point, accepted when φ grows.
/// ℓ is the largest certificate evaluated.
public enum LowerBound {
    public struct Options: Sendable {
        /// Wall-clock budget in seconds (points, power steps and ascent share it).
        public var budget: Double
        public var seed: UInt64
        /// Random points besides the centre.
        public var points: Int
        public var powerSteps: Int
        public init(budget: Double = 20, seed: UInt64 = 0, points: Int = 8, powerSteps: Int = 12) {
            self.budget = budget
            self.seed = seed
            self.points = points
            self.powerSteps = powerSteps
        }
    }

    public struct Result: Sendable, Equatable {
        /// ℓ: the largest certified local Jacobian norm found.
        public var value: Double
        /// Where it was found ("centre", "random point 3", "ascent step 12 from random point 3").
        public var point: String
        /// Reverse passes (certificates) and forward passes spent.
        public var reversePasses: Int
        public var forwardPasses: Int
        public var seconds: Double
        /// The point x itself (the perturbed tensor's values).
        public var x: [Float] = []
    }

    /// Searches ℓ for `engine` (its `input` is the perturbed tensor) over the box `lo…hi` of that
    /// tensor, the other inputs fixed at `feeds`.
    public static func search(engine: Engine, lo: [Float], hi: [Float], feeds: [String: Value], options: Options,
                              progress: ((String) -> Void)? = nil) throws(ReferenceError) -> Result {
        let start = Date()
        func elapsed() -> Double { Date().timeIntervalSince(start) }
        guard let shape = engine.inputShape ?? feeds[engine.input]?.shape, shape.reduce(1, *) == lo.count, lo.count == hi.count else {
            throw .badFeed(reason: "the domain of '\(engine.input)' has \(lo.count) elements for its shape")
        }
        let n = lo.count
        var rng = RandomSource(seed: options.seed ^ 0x10B0_0BD5)
        var forward = 0, reverse = 0
        func value(_ x: [Float]) -> Value { Value(shape: shape, data: x) }
        func run(_ x: [Float]) throws(ReferenceError) -> Engine.Trace {
            var f = feeds
            f[engine.input] = value(x)
            forward += 1
            return try engine.forward(f)
        }
        func clipToBox(_ x: inout [Float]) { for i in 0..<n { x[i] = min(max(x[i], lo[i]), hi[i]) } }
        let width = zip(lo, hi).map { Double($1 - $0) }
        let scale = max(width.reduce(0, +) / Double(max(n, 1)), 1e-6)

        /// ‖J(x)ᵀu‖ for a unit u (exact reverse pass), and Jᵀu.
        func certificate(_ trace: Engine.Trace, _ u: [Float]) throws(ReferenceError) -> (Double, [Float]) {
            reverse += 1
            let w = try engine.vjp(trace, cotangents: u, rows: 1)
            return (norm2(w), w)
        }

        /// ‖J(x)‖₂ at x by power iteration (or the exact Jacobian for small outputs); returns the
        /// best certificate and its unit u.
        func localNorm(_ x: [Float]) throws(ReferenceError) -> (Double, [Float]) {
            let trace = try run(x)
            let m = trace.result.count
            guard m > 0 else { return (0, []) }
            if m <= 64 {
                var eye = [Float](repeating: 0, count: m * m)
                for i in 0..<m { eye[i * m + i] = 1 }
                reverse += 1
                let jac = try engine.vjp(trace, cotangents: eye, rows: m)  // row i = ∇y_i
                var g = [Double](repeating: 0, count: m * m)
                for i in 0..<m { for j in i..<m {
                    var s = 0.0
                    for k in 0..<n { s += Double(jac[i * n + k]) * Double(jac[j * n + k]) }
                    g[i * m + j] = s; g[j * m + i] = s
                } }
                var u = [Double](repeating: 1 / Double(m).squareRoot(), count: m)
                for _ in 0..<200 {
                    var next = [Double](repeating: 0, count: m)
                    for i in 0..<m { for j in 0..<m { next[i] += g[i * m + j] * u[j] } }
                    let s = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    guard s > 0 else { break }
                    u = next.map { $0 / s }
                }
                let uf = u.map { Float($0) }
                let (c, _) = try certificate(trace, uf)
                return (c, uf)
            }
            // Power iteration with J·v by central differences.
            var v = rng.unitVector(n).map { Float($0) }
            var best = (0.0, [Float](repeating: 0, count: m))
            let h = Float(1e-3 * scale)
            for _ in 0..<options.powerSteps {
                if elapsed() > options.budget { break }
                var plus = x, minus = x
                for i in 0..<n { plus[i] += h * v[i]; minus[i] -= h * v[i] }
                let yp = try run(plus).result.data, ym = try run(minus).result.data
                var u = [Float](repeating: 0, count: m)
                for i in 0..<m { u[i] = (yp[i] - ym[i]) / (2 * h) }
                let un = norm2(u)
                guard un > 0, un.isFinite else { break }
                for i in 0..<m { u[i] = Float(Double(u[i]) / un) }
                let (c, w) = try certificate(trace, u)
                if c > best.0 { best = (c, u) }
                guard c > 0 else { break }
                for i in 0..<n { v[i] = Float(Double(w[i]) / c) }
            }
            return best
        }

        var result = Result(value: 0, point: "none", reversePasses: 0, forwardPasses: 0, seconds: 0)
        var bestX = zip(lo, hi).map { ($0 + $1) / 2 }
        var bestU: [Float] = []
        let candidates = [("centre", bestX)] + (0..<options.points).map { k in
            ("random point \(k + 1)", (0..<n).map { i in lo[i] + Float(rng.uniform()) * (hi[i] - lo[i]) })
        }
        for (label, x) in candidates {
            if elapsed() > options.budget && result.value > 0 { break }
            let (c, u) = try localNorm(x)
            if c > result.value { result.value = c; result.point = label; bestX = x; bestU = u; result.x = x }
            progress?("lower bound: \(label): ‖J‖ ≥ \(NumberText.value(c)) (best \(NumberText.value(result.value)), \(String(format: "%.1f", elapsed())) s)")
        }
        // SPSA ascent on φ(x) = ‖J(x)ᵀu*‖ from the best point.
        if !bestU.isEmpty {
            let origin = result.point
            var x = bestX, phi = result.value
            var step = 0.05 * scale
            var k = 0
            while elapsed() < options.budget && k < 500 {
                k += 1
                let delta = (0..<n).map { _ in Float(rng.uniform() < 0.5 ? -1 : 1) }
                let c = Float(0.01 * scale)
                var xp = x, xm = x
                for i in 0..<n { xp[i] += c * delta[i]; xm[i] -= c * delta[i] }
                clipToBox(&xp); clipToBox(&xm)
                let (fp, _) = try certificate(try run(xp), bestU)
                let (fm, _) = try certificate(try run(xm), bestU)
                for (f, label, at) in [(fp, "+", xp), (fm, "−", xm)] where f > result.value {
                    result.value = f
                    result.point = "ascent step \(k)\(label) from \(origin)"
                    result.x = at
                }
                let slope = (fp - fm) / (2 * Double(c))
                guard slope != 0, slope.isFinite else { step *= 0.5; continue }
                var xn = x
                let direction: Float = slope > 0 ? 1 : -1
                for i in 0..<n { xn[i] += Float(step) * direction * delta[i] / Float(Double(n).squareRoot()) }
                clipToBox(&xn)
                let (fn, _) = try certificate(try run(xn), bestU)
                if fn > phi {
                    x = xn
                    phi = fn
                    step *= 1.2
                    if fn > result.value { result.value = fn; result.point = "ascent step \(k) from \(origin)"; result.x = xn }
                } else {
                    step *= 0.7
                    if step < 1e-6 * scale { break }
                }
            }
            progress?("lower bound: ascent \(k) steps, ‖J‖ ≥ \(NumberText.value(result.value)) (\(String(format: "%.1f", elapsed())) s)")
        }
        result.reversePasses = reverse
        result.forwardPasses = forward
        result.seconds = elapsed()
        return result
    }
}
