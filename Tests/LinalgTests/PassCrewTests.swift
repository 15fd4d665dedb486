// PassCrew: chunk sharing between a working thread and idle helpers, and bit-identical results.
import Foundation
import Testing
@testable import Linalg

/// Per-chunk counters written by different threads (each slot by exactly one chunk).
private final class Tally: @unchecked Sendable {
    var runs: [Int]
    var byHelper: [Bool]
    init(_ n: Int) { runs = Array(repeating: 0, count: n); byHelper = Array(repeating: false, count: n) }
}

/// Starts `count` threads blocked in `crew.help()`; the returned semaphore is signalled once per
/// thread when its `help()` returns. Waits (≤ 10 s) until all are idle in the crew.
private func startHelpers(_ crew: PassCrew, count: Int) -> DispatchSemaphore {
    let finished = DispatchSemaphore(value: 0)
    for _ in 0..<count {
        Thread { crew.help(); finished.signal() }.start()
    }
    let deadline = Date().addingTimeInterval(10)
    while crew.idleHelpers < count && Date() < deadline { usleep(1000) }
    return finished
}

@Suite(.timeLimit(.minutes(2)), .tags(.slow)) struct PassCrewTests {
    /// Every chunk of every job runs exactly once, the helpers take some of them, and `help()`
    /// returns once the only working member leaves.
    @Test func chunksRunOnceAndAreShared() throws {
        let crew = PassCrew()
        crew.enter()
        let finished = startHelpers(crew, count: 2)
        #expect(crew.idleHelpers == 2)
        let jobs = 40, chunks = 37
        let tally = Tally(jobs * chunks)
        let owner = Thread.current
        for j in 0..<jobs {
            crew.run(chunks: chunks) { i in
                var x = 1.0
                for t in 0..<20_000 { x = x * 0.999_999 + Double(t & 7) }  // ~tens of µs of work
                tally.runs[j * chunks + i] += x > 0 ? 1 : 0
                tally.byHelper[j * chunks + i] = Thread.current != owner
            }
        }
        crew.leave()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(tally.runs.allSatisfy { $0 == 1 })
        #expect(tally.byHelper.contains(true), "no chunk ran on a helper")
        #expect(tally.byHelper.contains(false), "no chunk ran on the owner")
    }

    /// With nobody working, `help()` returns at once; `run` without helpers stays on the caller.
    @Test func helpReturnsWhenIdleAndRunIsLocalWithoutHelpers() {
        let crew = PassCrew()
        crew.help()
        var order: [Int] = []
        crew.run(chunks: 5) { order.append($0) }
        #expect(order == [0, 1, 2, 3, 4])
    }

    /// The dense Lanczos paths (b = 1 and b = 2) give bit-identical σ, iterations and tolerance
    /// with helpers taking row groups of the passes: the groups are reduced in a fixed order.
    @Test(arguments: [1, 2])
    func lanczosIsBitIdenticalWithHelpers(blockSize: Int) throws {
        // As in production: bit-identity is per BLAS thread count.
        try BLAS.withSingleThread { try lanczosWithHelpers(blockSize: blockSize) }
    }

    func lanczosWithHelpers(blockSize: Int) throws {
        // Panels of 368 rows (1 MiB) are the groups: 5 of them, the last one of 28 rows.
        let rows = 1500, cols = 700
        var random = TestRandom(77)
        let a = random.floats(rows * cols)
        let serial = try a.withUnsafeBufferPointer { p in
            try SpectralNorm.lanczos(p, rows: rows, cols: cols, frobenius: Frobenius.norm(p),
                                     options: SpectralOptions(), blockSize: blockSize)
        }
        let crew = PassCrew()
        crew.enter()
        let finished = startHelpers(crew, count: 1)
        var options = SpectralOptions()
        options.crew = crew
        let shared = try a.withUnsafeBufferPointer { p in
            try SpectralNorm.lanczos(p, rows: rows, cols: cols, frobenius: Frobenius.norm(p),
                                     options: options, blockSize: blockSize)
        }
        crew.leave()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(serial == shared)
        #expect(serial.iterations > 1)
        // And the value itself against LAPACK on the same matrix (1e-5 relative, the target).
        let exact = try SpectralNorm.singularValues(a.map(Double.init), rows: rows, cols: cols)[0]
        #expect(abs(shared.sigma - exact) / exact <= 1e-5, "\(shared.sigma) vs \(exact)")
    }
}
