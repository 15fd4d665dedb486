// Kappa's benchmark driver (release build): times the phases of loading a model to a
// ready graph and reports peak RSS. Run through bench/run.sh, which also times the
// Python peers on the same files in the same run.
//
//   kappa-bench load MODEL [--touch]
//   kappa-bench kernels
//   kappa-bench analyze MODEL norms|whole
//   kappa-bench write-arch DIR
//   kappa-bench fuzz SEED COUNT DIR      (the pipeline fuzzer, long runs)
//   kappa-bench engine MODEL [REPEATS]   (forward, 1-row and 10-row VJP medians)
//   kappa-bench gradcheck MODEL SETDIR [OUTPUT [PERTURB]] [NAME=DIMS…]  (VJP vs central differences)
import Foundation
import ONNX

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Peak resident set size of this process in bytes (VmHWM from /proc/self/status).
func peakRSS() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

/// Sums a weight tensor (reads every page once). A plain function, so no actor
/// isolation checks run per element as they would in a top-level closure.
func sum(_ t: Tensor) -> Double {
    t.withFloats { p in
        var s = 0.0
        for v in p { s += Double(v) }
        return s
    }
}

func emit(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

let args = CommandLine.arguments
if args.count >= 2, args[1] == "kernels" {
    // sgemm peak vs the convolution kernels of the reference engine (AlexNet shapes).
    do {
        let peak = sgemmGFLOPS(n: 2048)
        let rows = try alexNetConvRows(batchBackward: 10)
        try emit(["sgemm_gflops": peak, "conv": rows, "conv_total": convAggregates(rows, peak: peak)])
    } catch {
        FileHandle.standardError.write(Data("kappa-bench: \(error)\n".utf8))
        exit(2)
    }
    exit(0)
}
if args.count >= 2, args[1] == "passes" {
    do { try emit(passRows()) } catch {
        FileHandle.standardError.write(Data("kappa-bench: \(error.localizedDescription)\n".utf8))
        exit(2)
    }
    exit(0)
}
if args.count >= 3, args[1] == "write-arch" {
    do { try emit(try writeArchitectures(to: args[2])) } catch {
        FileHandle.standardError.write(Data("kappa-bench: \(error.localizedDescription)\n".utf8))
        exit(2)
    }
    exit(0)
}
if args.count >= 3, args[1] == "engine" {
    do { try emit(try engineRow(path: args[2], repeats: args.count > 3 ? Int(args[3]) ?? 5 : 5)) } catch {
        FileHandle.standardError.write(Data("kappa-bench: \(error)\n".utf8))
        exit(2)
    }
    exit(0)
}
if args.count >= 2, args[1] == "gradcheck" {
    do { try gradCheck(Array(args.dropFirst(2))) } catch {
        FileHandle.standardError.write(Data("kappa-bench: \(error)\n".utf8))
        exit(2)
    }
    exit(0)
}
if args.count >= 5, args[1] == "fuzz", let seed = UInt64(args[2]), let count = Int(args[3]) {
    do { try emit(try fuzzRun(seed: seed, count: count, dir: args[4])) } catch {
        FileHandle.standardError.write(Data("kappa-bench: \(error.localizedDescription)\n".utf8))
        exit(2)
    }
    exit(0)
}
if args.count >= 4, args[1] == "analyze", ["norms", "whole"].contains(args[3]) {
    do { try emit(try analyzeRow(path: args[2], mode: args[3])) } catch {
        FileHandle.standardError.write(Data("kappa-bench: \(error.localizedDescription)\n".utf8))
        exit(2)
    }
    exit(0)
}
guard args.count >= 3, args[1] == "load" else {
    FileHandle.standardError.write(Data("usage: kappa-bench load MODEL [--touch] | kappa-bench kernels | kappa-bench passes | kappa-bench analyze MODEL norms|whole\n".utf8))
    exit(2)
}
let path = args[2]
do {
    let t0 = now()
    let model = try ModelLoader.load(path: path)
    let t1 = now()
    let graph = try ModelGraph(model: model)
    let t2 = now()
    let weightBytes = graph.constants.values.reduce(0) { $0 + $1.byteCount }
    // --touch reads every weight once (as the norms do), so peak RSS shows what mapping costs.
    var checksum = 0.0
    if args.contains("--touch") {
        for t in graph.constants.values where t.dataType == .float {
            checksum += sum(t)
        }
    }
    let t3 = now()
    let out: [String: Any] = [
        "model": path, "file_bytes": model.fileSize, "weight_bytes": weightBytes,
        "decode_s": t1 - t0, "graph_s": t2 - t1, "total_s": t2 - t0,
        "peak_rss_bytes": peakRSS(), "nodes": graph.graph.nodes.count,
        "touch_s": t3 - t2, "checksum": checksum,
    ]
    try emit(out)
} catch {
    FileHandle.standardError.write(Data("kappa-bench: \(error.localizedDescription)\n".utf8))
    exit(2)
}
