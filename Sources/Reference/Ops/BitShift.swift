import ONNX

/// BitShift(X, Y, direction LEFT|RIGHT) on unsigned integers (UINT8/16/32/64), numpy
/// broadcasting: z = x << y (bits shifted past the type's width dropped: 200 << 1 = 144 in
/// UINT8) or x >> y; a shift ≥ the width gives 0. Integer: no gradient (zero cotangents).
struct BitShift: Kernel {
    let left: Bool
    let bits: Int
    let dtype: DataType
    let shape: [Int]
    let tableX: [Int32]
    let tableY: [Int32]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), y = try c.shape(1)
        guard let out = Shapes.broadcast(x, y) else { throw c.fail("shapes \(x) and \(y) do not broadcast") }
        let bits: Int
        switch c.dtype(0) {
        case .uint8: bits = 8
        case .uint16: bits = 16
        case .uint32: bits = 32
        case .uint64: bits = 64
        case let t: throw c.fail("BitShift needs an unsigned integer type, got \(t)")
        }
        let direction = c.node.string("direction") ?? ""
        guard direction == "LEFT" || direction == "RIGHT" else { throw c.fail("direction must be LEFT or RIGHT, got '\(direction)'") }
        return BitShift(left: direction == "LEFT", bits: bits, dtype: c.dtype(0), shape: out,
                        tableX: IndexTable.broadcast(x, to: out), tableY: IndexTable.broadcast(y, to: out))
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs[0], let y = inputs[1] else { return [] }
        let mask: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        var z = [Float](repeating: 0, count: tableX.count)
        for i in z.indices {
            let v = UInt64(max(0, saturatingInt64(x.data[Int(tableX[i])])))
            let s = Int(max(0, saturatingInt64(y.data[Int(tableY[i])])))
            z[i] = s >= bits ? 0 : Float(left ? (v << UInt64(s)) & mask : v >> UInt64(s))
        }
        return [Value(shape: shape, data: z, dtype: dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        a.inputs.indices.map { i in a.wants[i] ? .zeros(a.rows * (a.inputs[i]?.count ?? 0)) : nil }
    }
}
