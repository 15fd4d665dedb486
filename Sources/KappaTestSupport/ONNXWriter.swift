import CProtobufC
import Foundation
import ONNX
import ONNXProto

/// Serialises a `ModelSpec` with protobuf-c: the spec is turned into the generated C
/// structs (all memory from one arena, freed when packing is done) and packed.
public enum ONNXWriter {
    public static func serialize(_ spec: ModelSpec) -> [UInt8] {
        let arena = Arena()
        var m = Onnx__ModelProto()
        onnx__model_proto__init(&m)
        m.has_ir_version = 1
        m.ir_version = spec.irVersion
        m.producer_name = arena.string(spec.producerName)
        m.producer_version = arena.string(spec.producerVersion)
        m.n_opset_import = spec.opsets.count
        m.opset_import = arena.pointers(spec.opsets) { op in
            let p = arena.alloc(Onnx__OperatorSetIdProto.self)
            onnx__operator_set_id_proto__init(p)
            p.pointee.domain = arena.string(op.domain)
            p.pointee.has_version = 1
            p.pointee.version = op.version
            return p
        }
        m.n_functions = spec.functions.count
        m.functions = arena.pointers(spec.functions) { name in
            let p = arena.alloc(Onnx__FunctionProto.self)
            onnx__function_proto__init(p)
            p.pointee.name = arena.string(name)
            p.pointee.domain = arena.string("local")
            return p
        }
        if let g = spec.graph { m.graph = graph(g, arena) }
        let size = onnx__model_proto__get_packed_size(&m)
        var out = [UInt8](repeating: 0, count: size)
        let written = out.withUnsafeMutableBufferPointer { buf in
            onnx__model_proto__pack(&m, buf.baseAddress)
        }
        precondition(written == size, "protobuf-c packed \(written) of \(size) bytes")  // test support only
        return out
    }

    /// Writes the serialised model to `path` (creating folders as needed).
    public static func write(_ spec: ModelSpec, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try Data(serialize(spec)).write(to: URL(fileURLWithPath: path))
    }

    static func graph(_ g: GraphSpec, _ a: Arena) -> UnsafeMutablePointer<Onnx__GraphProto> {
        let p = a.alloc(Onnx__GraphProto.self)
        onnx__graph_proto__init(p)
        p.pointee.name = a.string(g.name)
        p.pointee.n_node = g.nodes.count
        p.pointee.node = a.pointers(g.nodes) { node($0, a) }
        p.pointee.n_initializer = g.initializers.count
        p.pointee.initializer = a.pointers(g.initializers) { tensor($0, a) }
        p.pointee.n_input = g.inputs.count
        p.pointee.input = a.pointers(g.inputs) { valueInfo($0, a) }
        p.pointee.n_output = g.outputs.count
        p.pointee.output = a.pointers(g.outputs) { valueInfo($0, a) }
        p.pointee.n_value_info = g.valueInfo.count
        p.pointee.value_info = a.pointers(g.valueInfo) { valueInfo($0, a) }
        return p
    }

    static func node(_ n: NodeSpec, _ a: Arena) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let p = a.alloc(Onnx__NodeProto.self)
        onnx__node_proto__init(p)
        p.pointee.op_type = a.string(n.op)
        p.pointee.name = a.string(n.name)
        if !n.domain.isEmpty { p.pointee.domain = a.string(n.domain) }
        p.pointee.n_input = n.inputs.count
        p.pointee.input = a.strings(n.inputs)
        p.pointee.n_output = n.outputs.count
        p.pointee.output = a.strings(n.outputs)
        p.pointee.n_attribute = n.attributes.count
        p.pointee.attribute = a.pointers(n.attributes) { attribute($0.0, $0.1, a) }
        return p
    }

    static func attribute(_ name: String, _ v: AttrSpec, _ a: Arena) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let p = a.alloc(Onnx__AttributeProto.self)
        onnx__attribute_proto__init(p)
        p.pointee.name = a.string(name)
        p.pointee.has_type = 1
        switch v {
        case let .int(i):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            p.pointee.has_i = 1
            p.pointee.i = Int64(i)
        case let .float(f):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            p.pointee.has_f = 1
            p.pointee.f = f
        case let .string(s):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            p.pointee.has_s = 1
            p.pointee.s = a.binary(Array(s.utf8))
        case let .ints(v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            p.pointee.n_ints = v.count
            p.pointee.ints = a.array(v.map { Int64($0) })
        case let .floats(v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
            p.pointee.n_floats = v.count
            p.pointee.floats = a.array(v)
        case let .strings(v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
            p.pointee.n_strings = v.count
            p.pointee.strings = a.array(v.map { a.binary(Array($0.utf8)) })
        case let .tensor(t):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
            p.pointee.t = tensor(t, a)
        case let .graph(g):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH
            p.pointee.g = graph(g, a)
        case let .graphs(gs):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS
            p.pointee.n_graphs = gs.count
            p.pointee.graphs = a.pointers(gs) { graph($0, a) }
        case let .empty(type):
            p.pointee.type = Onnx__AttributeProto__AttributeType(rawValue: UInt32(bitPattern: type))
        }
        return p
    }

    static func tensor(_ t: TensorSpec, _ a: Arena) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let p = a.alloc(Onnx__TensorProto.self)
        onnx__tensor_proto__init(p)
        p.pointee.name = a.string(t.name)
        p.pointee.has_data_type = 1
        p.pointee.data_type = t.dataType
        p.pointee.n_dims = t.dims.count
        p.pointee.dims = a.array(t.dims)
        func external(_ entries: [(String, String)]) {
            p.pointee.has_data_location = 1
            p.pointee.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
            p.pointee.n_external_data = entries.count
            p.pointee.external_data = a.pointers(entries) { kv in
                let e = a.alloc(Onnx__StringStringEntryProto.self)
                onnx__string_string_entry_proto__init(e)
                e.pointee.key = a.string(kv.0)
                e.pointee.value = a.string(kv.1)
                return e
            }
        }
        switch t.data {
        case let .raw(bytes):
            p.pointee.has_raw_data = 1
            p.pointee.raw_data = a.binary(bytes)
        case let .floatData(v):
            p.pointee.n_float_data = v.count
            p.pointee.float_data = a.array(v)
        case let .int32Data(v):
            p.pointee.n_int32_data = v.count
            p.pointee.int32_data = a.array(v)
        case let .int64Data(v):
            p.pointee.n_int64_data = v.count
            p.pointee.int64_data = a.array(v)
        case let .doubleData(v):
            p.pointee.n_double_data = v.count
            p.pointee.double_data = a.array(v)
        case let .uint64Data(v):
            p.pointee.n_uint64_data = v.count
            p.pointee.uint64_data = a.array(v)
        case let .external(location, offset, length):
            var entries = [("location", location)]
            if let offset { entries.append(("offset", String(offset))) }
            if let length { entries.append(("length", String(length))) }
            external(entries)
        case let .externalEntries(entries):
            external(entries)
        case .none:
            break
        }
        return p
    }

    static func valueInfo(_ v: ValueInfoSpec, _ a: Arena) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let p = a.alloc(Onnx__ValueInfoProto.self)
        onnx__value_info_proto__init(p)
        p.pointee.name = a.string(v.name)
        let tp = a.alloc(Onnx__TypeProto.self)
        onnx__type_proto__init(tp)
        let tt = a.alloc(Onnx__TypeProto__Tensor.self)
        onnx__type_proto__tensor__init(tt)
        tt.pointee.has_elem_type = 1
        tt.pointee.elem_type = v.elemType
        if let dims = v.dims {
            let s = a.alloc(Onnx__TensorShapeProto.self)
            onnx__tensor_shape_proto__init(s)
            s.pointee.n_dim = dims.count
            s.pointee.dim = a.pointers(dims) { d in
                let dp = a.alloc(Onnx__TensorShapeProto__Dimension.self)
                onnx__tensor_shape_proto__dimension__init(dp)
                switch d {
                case let .value(x):
                    dp.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    dp.pointee.dim_value = x
                case let .param(name):
                    dp.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    dp.pointee.dim_param = a.string(name)
                }
                return dp
            }
            tt.pointee.shape = s
        }
        tp.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        tp.pointee.tensor_type = tt
        p.pointee.type = tp
        return p
    }
}

/// Owns every C allocation made while building one message; frees them in `deinit`.
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []

    func alloc<T>(_: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let raw = calloc(max(count, 1), MemoryLayout<T>.stride)!  // test support: OOM is fatal
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        blocks.append(UnsafeMutableRawPointer(p))
        return p
    }

    func strings(_ list: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let p = alloc(UnsafeMutablePointer<CChar>?.self, count: list.count)
        for (i, s) in list.enumerated() { p[i] = string(s) }
        return p
    }

    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let p = alloc(T.self, count: values.count)
        for (i, v) in values.enumerated() { (p + i).initialize(to: v) }
        return p
    }

    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let p = alloc(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { p.update(from: b, count: bytes.count) }
        }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    func pointers<S, T>(_ items: [S], _ make: (S) -> UnsafeMutablePointer<T>) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?> {
        let p = alloc(UnsafeMutablePointer<T>?.self, count: items.count)
        for (i, item) in items.enumerated() { p[i] = make(item) }
        return p
    }

    deinit { for b in blocks { free(b) } }
}
