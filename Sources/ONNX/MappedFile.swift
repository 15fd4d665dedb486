import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory mapping of a whole regular file. Unmapped in `deinit`;
/// tensors that borrow its bytes keep it alive through `Tensor.owner`.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private let length: Int

    /// Maps `path`. Errors are plain strings; callers wrap them in the right `ONNXError`.
    public init(path: String) throws(MapError) {
        self.path = path
        // O_NONBLOCK: opening a FIFO (a named pipe planted as a model or data file) must
        // not wait for a writer; the S_IFREG check below then refuses it.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw MapError(reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw MapError(reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw MapError(reason: "not a regular file") }
        length = Int(st.st_size)
        if length == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw MapError(reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: length)
    }

    /// Tells the kernel the pages will be read once, front to back.
    public func adviseSequential() {
        if let base { _ = madvise(base, length, MADV_SEQUENTIAL) }
    }

    /// Drops the resident pages wholly inside [offset, offset + length) (MADV_DONTNEED):
    /// for a read-only private file mapping they are simply re-read if touched again.
    public func release(offset: Int, length: Int) {
        guard let base, length > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (offset + page - 1) / page * page
        let last = (offset + length) / page * page
        if last > first { _ = madvise(base + first, last - first, MADV_DONTNEED) }
    }

    deinit {
        if let base { munmap(base, length) }
    }
}

public struct MapError: Error, Sendable {
    public let reason: String
}
