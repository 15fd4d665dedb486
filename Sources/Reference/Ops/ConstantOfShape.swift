import ONNX

/// ConstantOfShape(shape) at run time (the loader folds it when the shape is constant): a
/// tensor of the given INT64 extents filled with the one-element `value` attribute (default
/// FLOAT 0), typed as that value. The shape is read at run time. No gradient.
struct ConstantOfShape: Kernel {
    let node: String
    let fill: Float
    let dtype: DataType

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        guard let v = c.node.tensor("value") else { return ConstantOfShape(node: c.name, fill: 0, dtype: .float) }
        guard v.count == 1, v.dataType.isNumeric else { throw c.fail("value must be a one-element numeric tensor") }
        return ConstantOfShape(node: c.name, fill: Cast.convert(v.floats()[0], to: v.dataType), dtype: v.dataType)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let s = inputs.first ?? nil else { return [] }
        let dims = s.ints
        guard dims.allSatisfy({ $0 >= 0 }), let n = Shapes.checkedProduct(dims), n <= Engine.maxElements else {
            throw .badNode(node: node, op: "ConstantOfShape", reason: "invalid shape \(dims)")
        }
        return [Value(shape: dims, data: [Float](repeating: fill, count: n), dtype: dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] { [nil] }
}
