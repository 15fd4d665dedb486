/// The one place analysis findings are made (DESIGN.md §1.2, the README's rule table).
public enum Findings {
    /// KAPPA001 for a weight with NaN/∞, KAPPA002 for an op outside the table, KAPPA003 for a
    /// node without a finite bound, KAPPA006 for one a declared input domain would bound (with a
    /// domain already declared, such a node is KAPPA003 "unbounded on the declared domain": the
    /// reason says which interval is the problem), and KAPPA003 when a network bound overflows
    /// Double with no node to blame.
    public static func analysis(nodes: [NodeAnalysis], network: NetworkResult, domainDeclared: Bool = false) -> [Finding] {
        var out: [Finding] = []
        for n in nodes {
            let what = "node '\(n.node)' (\(n.op))"
            if let w = n.weight, w.norms.nonFinite > 0 {
                out.append(Finding(.nonFiniteWeight, "\(what): \(w.norms.failure ?? "weight '\(w.weight)' holds NaN or infinite values")", node: n.node))
                continue
            }
            switch n.status {
            case .ok: break
            case .unsupported: out.append(Finding(.unsupportedOp, "\(what) is unsupported: \(n.reason ?? "")", node: n.node))
            case .unbounded where n.domainWouldBound && domainDeclared:
                out.append(Finding(.unboundedOp, "\(what) is unbounded on the declared input domain: \(n.reason ?? "")", node: n.node))
            case .unbounded where n.domainWouldBound:
                out.append(Finding(.needsDomain, "\(what) is unbounded without an input domain: \(n.reason ?? "") (declare one with --input-range)", node: n.node))
            case .unbounded: out.append(Finding(.unboundedOp, "\(what) is unbounded: \(n.reason ?? "")", node: n.node))
            }
        }
        if !(network.eq7.isFinite && network.eq8.isFinite) && out.isEmpty {
            out.append(Finding(.unboundedOp, "the network bound at '\(network.output.tensor)' overflows Double (above 1.8e308)"))
        }
        return out
    }
}
