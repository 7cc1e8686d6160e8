// SPDX-License-Identifier: Apache-2.0
// Reading tar archives and compressed streams with libarchive
// (archive_read(3)); no tar or gzip code of our own.
import CArchive
import Glibc

/// One libarchive read handle. Errors name `what` (`layer sha256:…`).
final class ArchiveReader {
    let handle: OpaquePointer
    let what: String
    /// Keeps the upstream reader and hasher alive while libarchive calls back.
    private var source: DecompressedSource?

    /// Opens `path` as a tar archive, plain or compressed (gzip, zstd).
    convenience init(tarAt path: String, what: String) throws(ImageError) {
        try self.init(path, what: what, format: archive_read_support_format_tar)
    }

    /// Opens `path` in raw mode: one entry whose data is the decompressed stream.
    convenience init(decompressing path: String, what: String) throws(ImageError) {
        try self.init(path, what: what, format: archive_read_support_format_raw)
        var entry: OpaquePointer?
        guard archive_read_next_header(handle, &entry) == ARCHIVE_OK else { throw failure("read") }
    }

    private init(_ path: String, what: String, format: (OpaquePointer?) -> Int32) throws(ImageError) {
        handle = archive_read_new()
        self.what = what
        archive_read_support_filter_gzip(handle)
        archive_read_support_filter_zstd(handle)
        _ = format(handle)
        guard archive_read_open_filename(handle, path, Self.blockSize) == ARCHIVE_OK else { throw failure("open") }
    }

    /// Reads a tar archive from the decompressed data of `upstream`, hashing
    /// every byte it takes (a layer's DiffID is the digest of its tar stream).
    init(tarFrom upstream: ArchiveReader) throws(ImageError) {
        handle = archive_read_new()
        what = upstream.what
        archive_read_support_format_tar(handle)
        let source = DecompressedSource(upstream)
        self.source = source
        let result = archive_read_open(handle, Unmanaged.passUnretained(source).toOpaque(), nil,
                                       { _, context, buffer in
                                           let source = Unmanaged<DecompressedSource>.fromOpaque(context!)
                                               .takeUnretainedValue()
                                           return source.next(buffer!)
                                       }, nil)
        guard result == ARCHIVE_OK else { throw failure("open") }
    }

    deinit { archive_read_free(handle) }

    static let blockSize = 1 << 20

    /// The compression libarchive found: `none`, `gzip`, `zstd`.
    var compression: String {
        String(cString: archive_filter_name(handle, 0))
    }

    /// The next entry, or nil at the end of the archive.
    func next() throws(ImageError) -> OpaquePointer? {
        var entry: OpaquePointer?
        switch archive_read_next_header(handle, &entry) {
        case ARCHIVE_OK, ARCHIVE_WARN: return entry
        case ARCHIVE_EOF: return nil
        default:
            if endsAfterEntryData { return nil }
            throw failure("read")
        }
    }

    /// Whether the last error is a layer stream that ended right after an
    /// entry's data, without its padding and the end-of-archive blocks. That
    /// is what `umoci insert` writes, and Go's archive/tar (umoci, containerd,
    /// Docker) reads it; the layer's digest already vouches it is what its
    /// producer made. Outer archives get no such leniency.
    private var endsAfterEntryData: Bool {
        guard source != nil, let message = archive_error_string(handle).map({ String(cString: $0) }) else { return false }
        return message.hasPrefix("Truncated input file") && message.hasSuffix("only 0 available)")
    }

    /// Reads the current entry's data block by block (archive_read_data_block(3),
    /// which, unlike archive_read_data, never drops a block it read before an
    /// error); `body` gets each block and its offset in the file (sparse files
    /// have holes between blocks).
    /// - Parameter size: the entry's size, for the missing-padding case.
    func readData(size: Int64 = -1, _ body: (UnsafeRawBufferPointer, Int64) throws(ImageError) -> Void)
        throws(ImageError)
    {
        var total: Int64 = 0
        while true {
            var block: UnsafeRawPointer?
            var count = 0
            var offset: la_int64_t = 0
            switch archive_read_data_block(handle, &block, &count, &offset) {
            case ARCHIVE_EOF: return
            case ARCHIVE_OK, ARCHIVE_WARN: break
            default:
                if total == size && endsAfterEntryData { return }
                throw failure("read")
            }
            total += Int64(count)
            if count > 0 { try body(UnsafeRawBufferPointer(start: block, count: count), offset) }
        }
    }

    /// The DiffID of the tar stream read through `init(tarFrom:)`, after
    /// reading what is left of it (the end-of-archive blocks, padding).
    func finishDiffID() throws(ImageError) -> Digest {
        guard let source else { throw ImageError("image", what, "no decompressed source") }
        while true {
            var pointer: UnsafeRawPointer?
            let count = source.next(&pointer)
            if count < 0 { throw source.upstream.failure("read") }
            if count == 0 { break }
        }
        return source.finish()
    }

    /// `WHAT: STEP: libarchive's message`.
    func failure(_ step: String) -> ImageError {
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
        let text = message.contains("runcated") || message.contains("nexpected EOF") ? "truncated (\(message))" : message
        return ImageError("image", what, "\(step): \(text)")
    }
}

/// Feeds a downstream reader from the decompressed data of an upstream one,
/// hashing it on the way.
private final class DecompressedSource {
    let upstream: ArchiveReader
    var hasher: SHA256? = SHA256()
    /// Stable storage libarchive reads from until the next call.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveReader.blockSize, alignment: 16)

    init(_ upstream: ArchiveReader) { self.upstream = upstream }
    deinit { buffer.deallocate() }

    /// libarchive's read callback: points `out` at the next chunk; 0 at the end, -1 on error.
    func next(_ out: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        let count = archive_read_data(upstream.handle, buffer.baseAddress, buffer.count)
        guard count > 0 else { return count < 0 ? -1 : 0 }
        hasher?.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        out.pointee = UnsafeRawPointer(buffer.baseAddress)
        return count
    }

    func finish() -> Digest {
        hasher.take()!.finish()
    }
}
