// Idle worker threads lending themselves to the passes of the layers still running.
import Foundation

/// A crew of worker threads that share the chunks of memory-bound passes.
///
/// Why: per-layer norms run one layer per worker (layers are independent), so on a model with one
/// dominant weight (VGG-19's fc6 is 72 % of the parameters) the other workers finish early and
/// idle while the dominant layer streams its 411 MB once per Lanczos pass on one core. One core
/// does not saturate memory bandwidth: the fused Gram pass over 4096 × 25088 measured 26 ms on one
/// thread and 16 ms split over two (2-core EPYC, OpenBLAS, 1 BLAS thread each).
///
/// Protocol. A worker calls ``enter()`` before taking a unit of its own work and ``leave()``
/// after it; a worker with nothing left calls ``help()``, which runs chunks of the jobs that
/// working members post with ``run(chunks:_:)`` and returns once no member is working. A job's
/// chunks write disjoint outputs, so the result does not depend on which thread ran which chunk:
/// callers reduce the per-chunk results in chunk order afterwards, bit-identical to a serial run.
/// Without idle helpers ``run(chunks:_:)`` runs every chunk on the calling thread (no locking
/// beyond one check).
public final class PassCrew: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var working = 0
    private var idle = 0

    public init() {}

    /// Threads currently waiting in ``help()`` (for tests and diagnostics).
    var idleHelpers: Int { condition.lock(); defer { condition.unlock() }; return idle }

    /// One posted pass: `body(i)` for i in 0..<count; `next` and `finished` are guarded by the lock.
    private final class Job: @unchecked Sendable {
        let body: (Int) -> Void
        let count: Int
        var next = 0
        var finished = 0
        init(body: @escaping (Int) -> Void, count: Int) { self.body = body; self.count = count }
    }

    /// The calling worker starts a unit of its own work.
    public func enter() {
        condition.lock(); working += 1; condition.unlock()
    }

    /// The calling worker finished a unit of its own work (wakes the helpers so they can return).
    public func leave() {
        condition.lock(); working -= 1; condition.broadcast(); condition.unlock()
    }

    /// Runs chunks of posted jobs until no member is working (every unit of work is finished).
    public func help() {
        condition.lock()
        idle += 1
        while true {
            if let job = jobs.first(where: { $0.next < $0.count }) {
                let i = job.next
                job.next += 1
                condition.unlock()
                job.body(i)
                condition.lock()
                job.finished += 1
                if job.finished == job.count { condition.broadcast() }
            } else if working == 0 {
                break
            } else {
                condition.wait()
            }
        }
        idle -= 1
        condition.unlock()
    }

    /// `body(i)` for every i in 0..<chunks, on the calling thread and on the idle helpers; returns
    /// when all have finished. `body` runs on other threads although it is not `@Sendable` (it
    /// captures the caller's raw buffers): chunks must write disjoint memory and only read what
    /// no chunk writes.
    public func run(chunks: Int, _ body: (Int) -> Void) {
        guard chunks > 0 else { return }
        condition.lock()
        let alone = idle == 0 || chunks == 1
        condition.unlock()
        if alone {
            for i in 0..<chunks { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let job = Job(body: body, count: chunks)
            condition.lock()
            jobs.append(job)
            condition.broadcast()
            while job.next < job.count {
                let i = job.next
                job.next += 1
                condition.unlock()
                body(i)
                condition.lock()
                job.finished += 1
            }
            while job.finished < job.count { condition.wait() }
            jobs.removeAll { $0 === job }
            condition.unlock()
        }
    }
}

extension PassCrew {
    /// `run(chunks:_:)` on `crew` when there is one, else every chunk on the calling thread.
    static func run(_ crew: PassCrew?, chunks: Int, _ body: (Int) -> Void) {
        if let crew { crew.run(chunks: chunks, body) } else { for i in 0..<chunks { body(i) } }
    }
}
