import Foundation
import KappaTestSupport

/// `kappa-bench fuzz SEED COUNT DIR`: the pipeline fuzzer of the tests, for long runs. Each
/// mutant is written to DIR/mutant.onnx and its number appended to DIR/fuzz.log before it runs,
/// so after a crash the file and the log's last line name the mutant that caused it.
/// Prints a JSON summary: counts, errors by stage, the slowest mutant.
func fuzzRun(seed: UInt64, count: Int, dir: String) throws -> [String: Any] {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/mutant.onnx"
    let log = dir + "/fuzz.log"
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    guard let handle = FileHandle(forWritingAtPath: log) else { throw FuzzError("cannot write \(log)") }
    var fuzzer = PipelineFuzzer(seed: seed)
    let seeds = PipelineFuzzer.seeds()
    var byStage: [String: Int] = [:]
    var fullyRun = 0, slowest = 0.0, slowestIndex = -1
    var badMessages: [String] = []
    for i in 0..<count {
        let spec = fuzzer.mutate(seeds[i % seeds.count])
        try ONNXWriter.write(spec, to: path)
        handle.write(Data("\(i)\n".utf8))
        try? handle.synchronize()
        let t0 = now()
        let outcome = PipelineRun.run(path: path)
        let dt = now() - t0
        if dt > slowest { slowest = dt; slowestIndex = i }
        if outcome.errors.isEmpty { fullyRun += 1 }
        for e in outcome.errors {
            byStage[e.stage, default: 0] += 1
            if e.message.isEmpty || e.message.contains("\n") { badMessages.append(e.message) }
        }
    }
    return ["mutants": count, "fully_run": fullyRun, "errors_by_stage": byStage, "slowest_s": slowest,
            "slowest_mutant": slowestIndex, "bad_messages": badMessages.prefix(5).map { $0 }]
}

struct FuzzError: Error, LocalizedError {
    let message: String
    init(_ m: String) { message = m }
    var errorDescription: String? { message }
}
