import CProtobufC
import Foundation
import ONNXProto

/// Owns an unpacked `Onnx__ModelProto` (C memory allocated by protobuf-c) and frees it
/// in `deinit`. Tensors decoded from it borrow their `raw_data`/typed arrays and keep
/// this object alive, so weights are never copied after protobuf-c's own unpack.
final class ProtoMessage: @unchecked Sendable {
    let model: UnsafeMutablePointer<Onnx__ModelProto>

    init(_ model: UnsafeMutablePointer<Onnx__ModelProto>) { self.model = model }

    deinit { onnx__model_proto__free_unpacked(model, nil) }
}

/// Reads `.onnx` files into `Model` values.
///
/// Pipeline: map the file → `WireScan` (structure, nesting depth) → `Skeleton` (large
/// raw_data replaced by offsets into the mapping) → protobuf-c unpack → convert to Swift
/// values, validating every tensor (type, dims, data size) and resolving external data
/// against the model's folder. Large weights are borrowed from the mapping, small ones from
/// the C message; both stay alive as the tensors' owners; nothing large is copied.
public enum ModelLoader {
    /// Deepest message nesting accepted (model → graph → node → attribute → graph → …).
    public static let maxNesting = 100

    public static func load(path: String) throws(ONNXError) -> Model {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .unreadable(path: path, reason: error.reason) }
        let fileSize = file.bytes.count
        do {
            try WireScan.scan(file.bytes, maxDepth: maxNesting)
        } catch {
            switch error {
            case let .malformed(reason): throw .notProtobuf(path: path, reason: reason)
            case let .tooDeep(depth): throw .nestingTooDeep(path: path, depth: depth)
            }
        }
        // Large raw_data stays in the mapping: protobuf-c unpacks a skeleton without it.
        let skeleton = Skeleton.build(file.bytes)
        let unpacked: UnsafeMutablePointer<Onnx__ModelProto>?
        if let skeleton {
            unpacked = skeleton.withUnsafeBufferPointer { b in
                b.baseAddress.flatMap { onnx__model_proto__unpack(nil, b.count, $0) }
            }
        } else if let base = file.bytes.baseAddress {
            unpacked = onnx__model_proto__unpack(nil, file.bytes.count, base.assumingMemoryBound(to: UInt8.self))
        } else {
            unpacked = nil
        }
        guard let unpacked else {
            throw .notProtobuf(path: path, reason: "protobuf-c rejected the message (a field has the wrong wire type or an invalid value)")
        }
        let message = ProtoMessage(unpacked)
        let decoder = Decoder(path: path, owner: message, file: file)
        return try decoder.model(message.model.pointee, fileSize: fileSize)
    }
}

/// Converts the unpacked C message to Swift values. All unsafe access stays here.
struct Decoder {
    let path: String
    /// The unpacked C message that decoded tensors borrow from (kept alive as their owner):
    /// a ModelProto (`ProtoMessage`) or a TensorProto (`ProtoTensor`, `TensorLoader`).
    let message: AnyObject
    let external: ExternalDataResolver
    /// The mapped model file; tensors whose raw_data the skeleton left in place borrow it.
    let file: MappedFile

    init(path: String, owner: AnyObject, file: MappedFile) {
        self.path = path
        self.message = owner
        self.file = file
        self.external = ExternalDataResolver(modelPath: path)
    }

    func model(_ m: Onnx__ModelProto, fileSize: Int) throws(ONNXError) -> Model {
        guard let g = m.graph else { throw .noGraph(path: path) }
        var opsets: [String: Int] = [:]
        for i in 0..<m.n_opset_import {
            guard let op = m.opset_import[i]?.pointee else { continue }
            opsets[string(op.domain)] = Int(op.version)
        }
        var functions: [String] = []
        for i in 0..<m.n_functions {
            guard let f = m.functions[i]?.pointee else { continue }
            let domain = string(f.domain)
            functions.append(domain.isEmpty ? string(f.name) : "\(domain):\(string(f.name))")
        }
        return Model(path: path, irVersion: Int(m.ir_version), producerName: string(m.producer_name),
                     producerVersion: string(m.producer_version), opsets: opsets,
                     graph: try graph(g), functions: functions, fileSize: fileSize)
    }

    func graph(_ gp: UnsafeMutablePointer<Onnx__GraphProto>) throws(ONNXError) -> Graph {
        let g = gp.pointee
        var nodes: [Node] = []
        nodes.reserveCapacity(g.n_node)
        for i in 0..<g.n_node {
            guard let n = g.node[i] else { continue }
            nodes.append(try node(n, index: i))
        }
        var inits: [Tensor] = []
        inits.reserveCapacity(g.n_initializer)
        for i in 0..<g.n_initializer {
            guard let t = g.initializer[i] else { continue }
            inits.append(try tensor(t, storage: .initializer, fallbackName: "initializer #\(i)"))
        }
        return Graph(name: string(g.name), nodes: nodes, initializers: inits,
                     inputs: valueInfos(g.input, g.n_input), outputs: valueInfos(g.output, g.n_output),
                     valueInfo: valueInfos(g.value_info, g.n_value_info))
    }

    func node(_ np: UnsafeMutablePointer<Onnx__NodeProto>, index: Int) throws(ONNXError) -> Node {
        let n = np.pointee
        let op = string(n.op_type)
        var name = string(n.name)
        if name.isEmpty { name = "\(op.isEmpty ? "node" : op)_\(index)" }
        let inputs = (0..<n.n_input).map { string(n.input[$0]) }
        let outputs = (0..<n.n_output).map { string(n.output[$0]) }
        var attrs: [String: Attribute] = [:]
        for i in 0..<n.n_attribute {
            guard let a = n.attribute[i] else { continue }
            let aname = string(a.pointee.name)
            attrs[aname] = try attribute(a, node: name)
        }
        return Node(name: name, opType: op, domain: string(n.domain), inputs: inputs, outputs: outputs, attributes: attrs)
    }

    func attribute(_ ap: UnsafeMutablePointer<Onnx__AttributeProto>, node: String) throws(ONNXError) -> Attribute {
        let a = ap.pointee
        let aname = string(a.name)
        if let ref = a.ref_attr_name, ref.pointee != 0 {
            return .unsupported("reference to function attribute '\(String(cString: ref))'")
        }
        var type = a.has_type != 0 ? a.type : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
        if type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED {
            // IR < 3 writers leave `type` unset: infer it from the field that is present.
            if a.t != nil { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR }
            else if a.g != nil { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH }
            else if a.n_floats > 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS }
            else if a.n_ints > 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS }
            else if a.n_strings > 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS }
            else if a.has_s != 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING }
            else if a.has_f != 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT }
            else if a.has_i != 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT }
        }
        switch type {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return .float(a.f)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return .int(Int(a.i))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return .string(bytesString(a.s))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            guard let t = a.t else {
                throw .badAttribute(path: path, node: node, attribute: aname, reason: "type TENSOR but no tensor value")
            }
            return .tensor(try tensor(t, storage: .constantNode, fallbackName: node))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
            guard let g = a.g else {
                throw .badAttribute(path: path, node: node, attribute: aname, reason: "type GRAPH but no graph value")
            }
            return .graph(try graph(g))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            return .floats(Array(UnsafeBufferPointer(start: a.floats, count: a.n_floats)))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            return .ints(UnsafeBufferPointer(start: a.ints, count: a.n_ints).map { Int($0) })
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
            return .strings((0..<a.n_strings).map { bytesString(a.strings[$0]) })
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
            var ts: [Tensor] = []
            for i in 0..<a.n_tensors {
                guard let t = a.tensors[i] else { continue }
                ts.append(try tensor(t, storage: .constantNode, fallbackName: "\(node).\(aname)[\(i)]"))
            }
            return .tensors(ts)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
            var gs: [Graph] = []
            for i in 0..<a.n_graphs {
                guard let g = a.graphs[i] else { continue }
                gs.append(try graph(g))
            }
            return .graphs(gs)
        default:
            return .unsupported("attribute type \(type.rawValue)")
        }
    }

    func valueInfos(_ list: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__ValueInfoProto>?>?, _ n: Int) -> [ValueInfo] {
        (0..<n).compactMap { i -> ValueInfo? in
            guard let v = list?[i]?.pointee else { return nil }
            var elem: DataType?
            var shape: [Dim]?
            if let t = v.type?.pointee, t.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
               let tt = t.tensor_type?.pointee {
                if tt.has_elem_type != 0 { elem = DataType(rawValue: tt.elem_type) }
                if let s = tt.shape?.pointee {
                    shape = (0..<s.n_dim).map { j -> Dim in
                        guard let d = s.dim[j]?.pointee else { return .unknown }
                        switch d.value_case {
                        case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
                            return d.dim_value >= 0 ? .value(Int(d.dim_value)) : .unknown
                        case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
                            let p = string(d.dim_param)
                            return p.isEmpty ? .unknown : .param(p)
                        default: return .unknown
                        }
                    }
                }
            }
            return ValueInfo(name: string(v.name), elementType: elem, shape: shape)
        }
    }

    /// Largest element count accepted for one tensor (2^34 ≈ 17 G elements): beyond
    /// any real model, and small enough that byte counts never overflow.
    static let maxElements = 1 << 34

    func tensor(_ tp: UnsafeMutablePointer<Onnx__TensorProto>, storage: TensorStorage,
                fallbackName: String) throws(ONNXError) -> Tensor {
        let t = tp.pointee
        var name = string(t.name)
        if name.isEmpty { name = fallbackName }
        let code = t.has_data_type != 0 ? Int(t.data_type) : 0
        guard let dtype = DataType(rawValue: Int32(truncatingIfNeeded: code)) else {
            throw .unknownDataType(path: path, tensor: name, code: code)
        }
        let rawDims = Array(UnsafeBufferPointer(start: t.dims, count: t.n_dims))
        // The volume counts 0 extents as 1, so an empty tensor cannot smuggle in
        // absurd extents ([0, 2^62]) that overflow later shape arithmetic.
        var count = 1, volume = 1
        for d in rawDims {
            guard d >= 0 else { throw .badDims(path: path, tensor: name, dims: rawDims, reason: "negative dimension") }
            let (v, overflow) = volume.multipliedReportingOverflow(by: max(Int(d), 1))
            guard !overflow, v <= Self.maxElements else {
                throw .badDims(path: path, tensor: name, dims: rawDims, reason: "more than \(Self.maxElements) elements")
            }
            volume = v
            count *= Int(d)
        }
        let dims = rawDims.map { Int($0) }
        guard let need = dtype.byteCount(elements: count) else {
            // STRING tensors carry no numeric data; keep the shape only.
            return Tensor(name: name, dataType: dtype, dims: dims, storage: storage,
                          bytes: UnsafeRawBufferPointer(start: nil, count: 0), owner: nil)
        }
        let size = dtype.byteSize ?? 1  // alignment unit (packed 4-bit types: bytes)

        if t.has_data_location != 0 && t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
            var entries: [String: String] = [:]
            for i in 0..<t.n_external_data {
                guard let e = t.external_data[i]?.pointee else { continue }
                entries[string(e.key)] = string(e.value)
            }
            let (bytes, owner) = try external.resolve(tensor: name, entries: entries, byteCount: need)
            return Tensor(name: name, dataType: dtype, dims: dims, storage: .external, bytes: bytes, owner: owner)
        }
        if t.has_kappa_raw_offset != 0 && t.has_kappa_raw_length != 0 {
            // raw_data left in the mapped file by `Skeleton` (offsets checked by WireScan).
            let offset = Int(clamping: t.kappa_raw_offset), len = Int(clamping: t.kappa_raw_length)
            guard len == need else {
                throw .dataSizeMismatch(path: path, tensor: name, expected: need, actual: len, field: "raw_data (bytes)")
            }
            guard let base = file.bytes.baseAddress, offset <= file.bytes.count - len else {
                throw .notProtobuf(path: path, reason: "tensor '\(name)': raw_data lies outside the file")
            }
            let start = base + offset
            if Int(bitPattern: start) % size == 0 {
                return Tensor(name: name, dataType: dtype, dims: dims, storage: storage,
                              bytes: UnsafeRawBufferPointer(start: start, count: len), owner: file)
            }
            // Misaligned for its element type (protobuf gives no alignment): copy once into
            // aligned memory and let the kernel drop the mapped pages, so RSS stays ≈ 1×. The
            // 8 MiB chunks go to all cores (page faults and copying are the cost: VGG-19's
            // 575 MB load measured 0.28 s on one thread, 0.19 s on two).
            let buf = OwnedBuffer(byteCount: len, zeroed: false)
            let chunk = 8 << 20
            let chunks = (len + chunk - 1) / chunk
            let source = Int(bitPattern: start), mapping = file
            DispatchQueue.concurrentPerform(iterations: chunks) { i in
                let done = i * chunk, n = min(chunk, len - done)
                guard let from = UnsafeRawPointer(bitPattern: source + done) else { return }
                (buf.raw.baseAddress.map { $0 + done })?.copyMemory(from: from, byteCount: n)
                mapping.release(offset: offset + done, length: n)
            }
            return Tensor(name: name, dataType: dtype, dims: dims, storage: storage,
                          bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<len]), owner: buf)
        }
        if t.has_raw_data != 0 {
            guard t.raw_data.len == need else {
                throw .dataSizeMismatch(path: path, tensor: name, expected: need, actual: t.raw_data.len,
                                        field: "raw_data (bytes)")
            }
            return Tensor(name: name, dataType: dtype, dims: dims, storage: storage,
                          bytes: UnsafeRawBufferPointer(start: t.raw_data.data, count: need), owner: message)
        }
        // Typed fields (ONNX IR: which field holds which type).
        func borrowed(_ p: UnsafeRawPointer?, _ n: Int, _ field: String) throws(ONNXError) -> Tensor {
            guard n == count else {
                throw .dataSizeMismatch(path: path, tensor: name, expected: count, actual: n, field: "\(field) (elements)")
            }
            return Tensor(name: name, dataType: dtype, dims: dims, storage: storage,
                          bytes: UnsafeRawBufferPointer(start: n == 0 ? nil : p, count: need), owner: message)
        }
        switch dtype {
        case .float: return try borrowed(t.float_data, t.n_float_data, "float_data")
        case .double: return try borrowed(t.double_data, t.n_double_data, "double_data")
        case .int64: return try borrowed(t.int64_data, t.n_int64_data, "int64_data")
        case .int32: return try borrowed(t.int32_data, t.n_int32_data, "int32_data")
        case .uint64: return try borrowed(t.uint64_data, t.n_uint64_data, "uint64_data")
        case .complex64: return try borrowed(t.float_data, t.n_float_data / 2, "float_data")
        case .complex128: return try borrowed(t.double_data, t.n_double_data / 2, "double_data")
        case .uint32:
            guard t.n_uint64_data == count else {
                throw .dataSizeMismatch(path: path, tensor: name, expected: count, actual: t.n_uint64_data, field: "uint64_data (elements)")
            }
            let buf = OwnedBuffer(byteCount: need)
            for i in 0..<count { buf.raw.storeBytes(of: UInt32(truncatingIfNeeded: t.uint64_data[i]), toByteOffset: i * 4, as: UInt32.self) }
            return Tensor(name: name, dataType: dtype, dims: dims, storage: storage,
                          bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<need]), owner: buf)
        case .uint4, .int4, .float4e2m1:
            // int32_data holds one packed byte (two elements, low nibble first) per int32.
            guard t.n_int32_data == need else {
                throw .dataSizeMismatch(path: path, tensor: name, expected: need, actual: t.n_int32_data, field: "int32_data (packed pairs)")
            }
            let buf = OwnedBuffer(byteCount: need)
            for i in 0..<need { buf.raw.storeBytes(of: UInt8(truncatingIfNeeded: t.int32_data[i]), toByteOffset: i, as: UInt8.self) }
            return Tensor(name: name, dataType: dtype, dims: dims, storage: storage,
                          bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<need]), owner: buf)
        case .int8, .uint8, .bool, .int16, .uint16, .float16, .bfloat16,
             .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz:
            // int32_data holds one element per int32 (16- and 8-bit floats as their bit patterns).
            guard t.n_int32_data == count else {
                throw .dataSizeMismatch(path: path, tensor: name, expected: count, actual: t.n_int32_data, field: "int32_data (elements)")
            }
            let buf = OwnedBuffer(byteCount: need)
            for i in 0..<count {
                let v = t.int32_data[i]
                if size == 1 {
                    buf.raw.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
                } else {
                    buf.raw.storeBytes(of: UInt16(truncatingIfNeeded: v), toByteOffset: i * 2, as: UInt16.self)
                }
            }
            return Tensor(name: name, dataType: dtype, dims: dims, storage: storage,
                          bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<need]), owner: buf)
        case .string:
            throw .unknownDataType(path: path, tensor: name, code: code)
        }
    }

    func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }

    func bytesString(_ b: ProtobufCBinaryData) -> String {
        guard let d = b.data, b.len > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: d, count: b.len), as: UTF8.self)
    }
}
