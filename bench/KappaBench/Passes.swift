import Foundation
import KappaTestSupport
import Linalg

/// `kappa-bench passes`: the dense Gram pass of the spectral norm on a 4096 × 25088 float32 matrix
/// (VGG-19 fc6's shape, Gaussian), a fixed number of block-Lanczos passes on the calling thread
/// alone and with one idle helper in a `PassCrew`, per-pass seconds including the float64 engine
/// work. The two σ after the same passes must agree bit for bit.
func passRows(passes: Int = 20) -> [String: Any] {
    let rows = 4096, cols = 25088
    var random = SeededRandom(seed: 7)
    let a = random.gaussians(rows * cols, scale: 1 / Double(cols).squareRoot())
    var options = SpectralOptions(tolerance: 0, maxIterations: passes)
    BLAS.setThreads(1)
    func timed(_ o: SpectralOptions) -> (Double, SpectralEstimate?) {
        let t0 = now()
        let e = a.withUnsafeBufferPointer { try? SpectralNorm.largest($0, rows: rows, cols: cols, options: o) }
        return ((now() - t0) / Double(passes), e)
    }
    let (alone, e1) = timed(options)
    let crew = PassCrew()
    crew.enter()
    let helperDone = DispatchSemaphore(value: 0)
    Thread { crew.help(); helperDone.signal() }.start()
    usleep(50_000)
    options.crew = crew
    let (helped, e2) = timed(options)
    crew.leave()
    helperDone.wait()
    return ["rows": rows, "cols": cols, "passes": passes, "pass_s_one_thread": alone, "pass_s_with_helper": helped,
            "bit_identical": e1 != nil && e1 == e2]
}
