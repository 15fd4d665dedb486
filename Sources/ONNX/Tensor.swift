import Foundation

/// Where a weight came from, as `kappa inspect` reports it.
public enum TensorStorage: String, Sendable, Codable {
    case initializer
    case constantNode = "constant_node"
    case external
    case folded
}

/// Heap memory owned by Swift (converted typed fields, folded constants).
/// Freed in `deinit`; a `Tensor` keeps its owner alive as long as it lives.
public final class OwnedBuffer: @unchecked Sendable {
    public let raw: UnsafeMutableRawBufferPointer

    public init(byteCount: Int, zeroed: Bool = true) {
        raw = .allocate(byteCount: max(byteCount, 1), alignment: 16)
        if zeroed { raw.initializeMemory(as: UInt8.self, repeating: 0) }
    }

    deinit { raw.deallocate() }
}

/// Float32 values whose memory stays valid and unchanged for the lifetime of this object:
/// it keeps the owner of that memory (a tensor, a mapping, an ``OwnedBuffer``) alive.
public final class FloatBuffer: @unchecked Sendable {
    /// Valid while this object lives; never written.
    public let pointer: UnsafeBufferPointer<Float>
    private let keeper: AnyObject

    init(_ pointer: UnsafeBufferPointer<Float>, keeping keeper: AnyObject) {
        self.pointer = pointer
        self.keeper = keeper
    }

    public var count: Int { pointer.count }
}

/// A constant tensor: name, type, dims and its bytes in ONNX `raw_data` layout
/// (little-endian, row-major). The bytes are borrowed, never copied, from the
/// unpacked protobuf message or from a memory-mapped external data file; `owner`
/// keeps that memory alive.
public final class Tensor: @unchecked Sendable {
    public let name: String
    public let dataType: DataType
    public let dims: [Int]
    public let storage: TensorStorage
    /// Exactly `dataType.byteCount(elements: count)` bytes (count × byteSize; ⌈count/2⌉ for
    /// the packed 4-bit types). Internal: other modules read the values
    /// through the scoped accessors (``withUnsafeBytes(_:)``, ``withFloats(_:)``) or keep
    /// them with ``stableFloats()``, whose object owns their lifetime.
    @usableFromInline let bytes: UnsafeRawBufferPointer
    /// The object whose lifetime backs `bytes` (protobuf message, mapping, OwnedBuffer).
    public let owner: AnyObject?

    public init(name: String, dataType: DataType, dims: [Int], storage: TensorStorage,
                bytes: UnsafeRawBufferPointer, owner: AnyObject?) {
        self.name = name
        self.dataType = dataType
        self.dims = dims
        self.storage = storage
        self.bytes = bytes
        self.owner = owner
    }

    /// A tensor that owns a copy of `values` (folding results, test fixtures).
    public convenience init(name: String, dims: [Int], floats values: [Float],
                            storage: TensorStorage = .folded) {
        let buf = OwnedBuffer(byteCount: values.count * 4)
        values.withUnsafeBytes { src in
            if let base = src.baseAddress { buf.raw.baseAddress?.copyMemory(from: base, byteCount: src.count) }
        }
        self.init(name: name, dataType: .float, dims: dims, storage: storage,
                  bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<(values.count * 4)]),
                  owner: buf)
    }

    /// A tensor that owns a copy of `values` as INT64.
    public convenience init(name: String, dims: [Int], int64s values: [Int64],
                            storage: TensorStorage = .folded) {
        let buf = OwnedBuffer(byteCount: values.count * 8)
        values.withUnsafeBytes { src in
            if let base = src.baseAddress { buf.raw.baseAddress?.copyMemory(from: base, byteCount: src.count) }
        }
        self.init(name: name, dataType: .int64, dims: dims, storage: storage,
                  bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<(values.count * 8)]),
                  owner: buf)
    }

    /// A BOOL tensor that owns a copy of `values`.
    public convenience init(name: String, dims: [Int], bools values: [Bool], storage: TensorStorage = .folded) {
        let buf = OwnedBuffer(byteCount: values.count)
        for (i, v) in values.enumerated() { buf.raw[i] = v ? 1 : 0 }
        self.init(name: name, dataType: .bool, dims: dims, storage: storage,
                  bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<values.count]), owner: buf)
    }

    /// The same data under another name, storage or shape (element count unchanged).
    public func renamed(_ newName: String, dims newDims: [Int]? = nil, storage newStorage: TensorStorage? = nil) -> Tensor {
        Tensor(name: newName, dataType: dataType, dims: newDims ?? dims, storage: newStorage ?? storage,
               bytes: bytes, owner: owner ?? self)
    }

    /// Number of elements: the product of dims (1 for a scalar).
    public var count: Int { dims.reduce(1, *) }

    public var byteCount: Int { bytes.count }

    /// Calls `body` with the raw bytes (ONNX `raw_data` layout); the pointer must not escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(bytes)
    }

    /// The values as contiguous aligned float32 in memory that stays valid and unchanged as
    /// long as the returned object lives: the tensor's own bytes when it is FLOAT and aligned
    /// (no copy), else a converted copy. For operators that keep a weight pointer.
    public func stableFloats() -> FloatBuffer {
        if dataType == .float, let base = bytes.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            return FloatBuffer(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: count), keeping: self)
        }
        let values = floats()
        let buf = OwnedBuffer(byteCount: values.count * 4)
        values.withUnsafeBytes { src in
            if let b = src.baseAddress { buf.raw.baseAddress?.copyMemory(from: b, byteCount: src.count) }
        }
        let p = buf.raw.baseAddress.map { UnsafeBufferPointer(start: $0.assumingMemoryBound(to: Float.self), count: values.count) }
            ?? UnsafeBufferPointer(start: nil, count: 0)
        return FloatBuffer(p, keeping: buf)
    }

    /// Reads element `i` as a Double, whatever the stored numeric type.
    @inlinable
    public func double(at i: Int) -> Double {
        switch dataType {
        case .float: return Double(bytes.loadUnaligned(fromByteOffset: i * 4, as: Float.self))
        case .double: return bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self)
        case .float16: return Double(halfToFloat(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
        case .bfloat16: return Double(bfloat16ToFloat(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
        case .int8: return Double(bytes.loadUnaligned(fromByteOffset: i, as: Int8.self))
        case .uint8, .bool: return Double(bytes.loadUnaligned(fromByteOffset: i, as: UInt8.self))
        case .int16: return Double(bytes.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))
        case .uint16: return Double(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
        case .int32: return Double(bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
        case .uint32: return Double(bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
        case .int64: return Double(bytes.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
        case .uint64: return Double(bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz:
            return float8ToDouble(bytes.load(fromByteOffset: i, as: UInt8.self), dataType)
        case .uint4, .int4, .float4e2m1:
            // Two per byte, element 2k in the low nibble (ONNX int4.md / float4.md).
            let b = bytes.load(fromByteOffset: i >> 1, as: UInt8.self)
            return fourBitToDouble(i & 1 == 0 ? b & 0x0F : b >> 4, dataType)
        case .string, .complex64, .complex128: return .nan
        }
    }

    /// All values converted to Float (a copy).
    public func floats() -> [Float] {
        if dataType == .float {
            return [Float](unsafeUninitializedCapacity: count) { out, n in
                if let dst = out.baseAddress, let src = bytes.baseAddress {
                    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
                }
                n = count
            }
        }
        return (0..<count).map { Float(double(at: $0)) }
    }

    /// All values converted to Double (a copy).
    public func doubles() -> [Double] { (0..<count).map { double(at: $0) } }

    /// All values as Int64 (integer types exactly; floats truncated toward zero).
    public func int64s() -> [Int64] {
        switch dataType {
        case .int64: return (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
        case .int32: return (0..<count).map { Int64(bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        default:
            return (0..<count).map { i in
                let d = double(at: i)
                return d.isFinite && abs(d) < 9.2e18 ? Int64(d) : 0
            }
        }
    }

    /// Calls `body` with the values as contiguous Float32 — without a copy when the
    /// tensor is FLOAT and suitably aligned (the common case for large weights), else
    /// through a converted temporary.
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if dataType == .float, let base = bytes.baseAddress,
           Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: count))
        }
        let values = floats()
        return try values.withUnsafeBufferPointer(body)
    }

    /// Count of values that are NaN or infinite (floating types only).
    public func nonFiniteCount() -> Int {
        guard dataType.isFloatingPoint else { return 0 }
        if dataType == .float {
            return withFloats { p in p.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
        }
        return (0..<count).reduce(0) { $0 + (double(at: $1).isFinite ? 0 : 1) }
    }
}
