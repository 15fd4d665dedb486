import ArgumentParser
import Foundation
import ONNX
import Reference
import Sensitivity

/// `--input-range` and the lower-bound search (DESIGN.md §1.8): shared by analyze, check and validate.
struct DomainOptions: ParsableArguments {
    @Option(name: .customLong("input-range"),
            help: ArgumentHelp("Declare the input domain: NAME=LO,HI (every element), NAME=LO:HI,LO:HI,… (per channel, axis 1), or 'empirical' (the min/max of --inputs). Repeatable.",
                               valueName: "NAME=LO,HI"))
    var inputRange: [String] = []

    @Option(name: .customLong("lower-budget"),
            help: ArgumentHelp("Seconds for the certified lower-bound search on the domain (0 skips it).", valueName: "SECONDS"))
    var lowerBudget: Double = 20

    @Option(name: .customLong("lower-seed"), help: "Seed of the lower-bound search.")
    var lowerSeed: UInt64 = 0

    var given: Bool { !inputRange.isEmpty }
    var wantsEmpirical: Bool { inputRange.contains("empirical") }

    func validate() throws {
        guard lowerBudget >= 0, lowerBudget.isFinite else { throw ValidationError("--lower-budget must be a non-negative number of seconds") }
        for r in inputRange where r != "empirical" {
            if case let .failure(e) = DomainSpec.parse(r) { throw ValidationError(e.localizedDescription) }
        }
    }

    /// The declared (or empirical) domain of `graph`.
    func domain(_ graph: ModelGraph, inputsPath: String?) throws -> (InputDomain, Bool) {
        if wantsEmpirical {
            guard let inputsPath else { throw KappaError("--input-range empirical needs --inputs PATH (the data whose min/max make the domain)") }
            return (try empiricalDomain(graph, inputsPath), true)
        }
        let specs = inputRange.compactMap { try? DomainSpec.parse($0).get() }
        switch InputDomain.declared(specs, graph: graph) {
        case let .success(d): return (d, false)
        case let .failure(e): throw KappaError(e.localizedDescription)
        }
    }

    /// The observed min/max of every graph input over the test-data sets or .npy files at `path`.
    func empiricalDomain(_ graph: ModelGraph, _ path: String) throws -> InputDomain {
        var observed: [String: (lo: Float, hi: Float, shape: [Int])] = [:]
        for vi in graph.inputs {
            guard let shape = graph.shapes[vi.name], (graph.dtypes[vi.name] ?? vi.elementType)?.isFloatingPoint ?? true else { continue }
            let set: InputSet
            do { set = try InputSet.files(at: path, shape: shape, input: vi.name, graphInputs: graph.inputs.map(\.name)) } catch {
                throw KappaError(error.localizedDescription)
            }
            var lo = Float.infinity, hi = -Float.infinity
            for i in 0..<set.count {
                let v: Value
                do { v = try set.load(i) } catch { throw KappaError(error.localizedDescription) }
                for x in v.data where x.isFinite { lo = min(lo, x); hi = max(hi, x) }
            }
            if lo <= hi { observed[vi.name] = (lo, hi, shape) }
        }
        return InputDomain.empirical(observed, graph: graph)
    }

    var lowerOptions: LowerBound.Options? {
        lowerBudget > 0 ? LowerBound.Options(budget: lowerBudget, seed: lowerSeed) : nil
    }
}
