import Foundation
import ONNX
import Sensitivity

/// `kappa analyze --input-range …`: the analysis on a bounded input domain and its bracket
/// [ℓ, L] (DESIGN.md §1.8).
/// 1. sound interval bounds of every tensor over the domain (``IntervalEvaluator``);
/// 2. the analysis with the domain rules (`SensitivityAnalysis` with `bounds`): L is its sound
///    Eq. 7 (the operator column);
/// 3. ℓ by ``LowerBound/search(engine:lo:hi:feeds:options:progress:)`` in the box of the first
///    perturbed tensor, the other inputs at their synthetic defaults (``SyntheticFeeds``): a
///    Jacobian with respect to one of several perturbed tensors is a block of the joint one,
///    so its norm is a lower bound too.
public enum DomainAnalysis {
    public static func run(_ graph: ModelGraph, options: AnalysisOptions, domain: InputDomain, empirical: Bool,
                           lower: LowerBound.Options?, progress: (@Sendable (Int, Int, String) -> Void)? = nil,
                           log: ((String) -> Void)? = nil) throws -> AnalysisResult {
        let plan = try SensitivityAnalysis.plan(graph, options: options)
        let bounds = try IntervalEvaluator.bounds(graph: graph, domain: domain.bounds)
        var o = options
        o.bounds = bounds
        var result = try SensitivityAnalysis.run(graph, options: o, progress: progress)
        var descriptions = domain.descriptions
        for e in plan.context.dependence.entries where domain.bounds[e.tensor] == nil {
            if let b = bounds[e.tensor], b.isFinite {
                descriptions.append("\(e.tensor) ∈ [\(NumberText.value(Double(b.lo.min() ?? 0))), \(NumberText.value(Double(b.hi.max() ?? 0)))] elementwise (\(e.kind == .embedding ? "the columns of its table" : "computed from the inputs' ranges"))")
            } else {
                descriptions.append("\(e.tensor): no range (declare one with --input-range \(e.tensor)=LO,HI)")
            }
        }
        var bracket = Bracket(domain: descriptions, empirical: empirical, upper: result.network.eq7.operator, lower: nil)
        if let lower, lower.budget > 0, let entry = plan.context.dependence.entries.first,
           let box = bounds[entry.tensor] ?? domain.bounds[entry.tensor], box.isFinite {
            let engine = try Engine(graph: graph, output: plan.output.tensor, input: entry.tensor)
            let feeds = try SyntheticFeeds.make(graph: graph, inputs: engine.requiredInputs, skip: entry.tensor, seed: lower.seed, index: 0,
                                                range: 0...1, domain: domain)
            let r = try LowerBound.search(engine: engine, lo: box.lo, hi: box.hi, feeds: feeds, options: lower, progress: log)
            bracket.lower = Bracket.Lower(value: r.value, point: r.point, reversePasses: r.reversePasses, forwardPasses: r.forwardPasses,
                                          seconds: r.seconds, tensor: entry.tensor)
            // A certified lower end above the sound upper end is a defect of the bound.
            if r.value > bracket.upper * (1 + 1e-5) {
                result.findings.append(Finding(.boundViolated, "the local Jacobian norm \(NumberText.value(r.value)) found at \(r.point) exceeds the bound \(NumberText.value(bracket.upper)) that Kappa calls sound on this domain"))
            }
        }
        result.bracket = bracket
        return result
    }
}
