import Dispatch

/// The one parallel loop of the project's kernels: a fixed set of indices whose bodies write
/// disjoint memory (convolution row pieces, depthwise channels, quantization blocks).
public enum Parallel {
    /// body(i) for every i in 0..<n on min(workers, n) threads (`DispatchQueue.concurrentPerform`),
    /// thread t taking t, t + threads, t + 2·threads, …; inline and in order for one thread.
    /// The bodies must write disjoint memory: the closure is shared between the threads.
    public static func forEach(_ n: Int, workers: Int, _ body: (Int) -> Void) {
        let threads = min(max(workers, 1), n)
        if threads <= 1 { for i in 0..<n { body(i) }; return }
        withoutActuallyEscaping(body) { b in
            nonisolated(unsafe) let f = b
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for i in stride(from: t, to: n, by: threads) { f(i) }
            }
        }
    }
}
