import ONNX

/// The merge node of an If whose condition is computed at run time (`Flattener` inlines both
/// branches, each node guarded by the condition; only the taken branch runs): inputs
/// `[cond, then outputs…, else outputs…]`, output k = then_k when cond is true, else else_k.
/// The VJP passes each output's cotangent to the branch that ran.
struct IfMerge: Kernel {
    let count: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let k = c.node.outputs.count
        guard c.node.inputs.count == 1 + 2 * k else { throw c.fail("If merge with \(c.node.inputs.count) inputs for \(k) outputs") }
        return IfMerge(count: k)
    }

    static func taken(_ cond: Value?) -> Bool { (cond?.data.first ?? 0) != 0 }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        let then = Self.taken(inputs.first ?? nil)
        var out: [Value] = []
        for k in 0..<count {
            guard let v = inputs[then ? 1 + k : 1 + count + k] else {
                throw .badNode(node: "If", op: "If", reason: "the \(then ? "then" : "else") branch's output \(k) was not computed")
            }
            out.append(v)
        }
        return out
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let then = Self.taken(a.inputs.first ?? nil)
        var g = [[Float]?](repeating: nil, count: a.inputs.count)
        for k in 0..<count {
            let i = then ? 1 + k : 1 + count + k
            if a.wants[i] { g[i] = a.grads[k] }
        }
        return g
    }
}
