// SPDX-License-Identifier: Apache-2.0
// Packs a layer directory in overlay form (an upper directory, or a layer of
// the store) into an OCI layer tar, the inverse of LayerUnpacker: overlay
// whiteouts (char 0/0) become `.wh.NAME`, `trusted.overlay.opaque=y` becomes
// `.wh..wh..opq`, overlayfs' own attributes are left out.
//
// The tar is deterministic: names in byte order, numeric owners, no atime or
// ctime, whiteouts dated 0. So packing a layer that was unpacked from such a
// tar gives the same bytes, the same DiffID, the same chain ID.
import CArchive
import Glibc

/// Writes layer tars with libarchive (archive_write(3), restricted pax).
struct LayerPacker {
    let what: String
    private let archive: OpaquePointer
    /// First path of each (device, inode) with more than one link: later ones are hard links to it.
    private var linkTargets: [String: String] = [:]

    /// Packs `directory` into the tar file `output`.
    static func pack(_ directory: String, to output: String, what: String) throws(ImageError) {
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw ImageError.syscall("image", directory, "open") }
        defer { close(root) }
        var packer = LayerPacker(what: what)
        defer { archive_write_free(packer.archive) }
        guard archive_write_open_filename(packer.archive, output) == ARCHIVE_OK else { throw packer.failure("open \(output)") }
        try packer.walk(root, prefix: "")
        guard archive_write_close(packer.archive) == ARCHIVE_OK else { throw packer.failure("close") }
    }

    private init(what: String) {
        self.what = what
        archive = archive_write_new()
        archive_write_set_format_pax_restricted(archive)
    }

    /// Writes the entries of directory `fd` (path `prefix`), sorted by name, depth first.
    private mutating func walk(_ fd: Int32, prefix: String) throws(ImageError) {
        let duplicate = dup(fd)
        guard duplicate >= 0, let stream = fdopendir(duplicate) else { throw ImageError.syscall("image", what, "opendir \(prefix)") }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(stream)
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            try add(fd, name, path: prefix + name)
        }
    }

    private mutating func add(_ parent: Int32, _ name: String, path: String) throws(ImageError) {
        var info = stat()
        guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw ImageError.syscall("image", what, "stat \(path)") }
        let type = info.st_mode & S_IFMT
        if type == S_IFCHR && info.st_rdev == 0 {
            try writeMarker(whiteout(path))
            return
        }
        if type == S_IFSOCK { return }
        let entry = archive_entry_new()!
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, type == S_IFDIR ? path + "/" : path)
        archive_entry_set_mode(entry, info.st_mode)
        archive_entry_set_uid(entry, la_int64_t(info.st_uid))
        archive_entry_set_gid(entry, la_int64_t(info.st_gid))
        archive_entry_set_mtime(entry, info.st_mtim.tv_sec, info.st_mtim.tv_nsec)
        switch type {
        case S_IFREG:
            let key = "\(info.st_dev):\(info.st_ino)"
            if info.st_nlink > 1, let first = linkTargets[key] {
                archive_entry_set_hardlink(entry, first)
                archive_entry_set_size(entry, 0)
                try writeHeader(entry, path)
                return
            }
            if info.st_nlink > 1 { linkTargets[key] = path }
            let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw ImageError.syscall("image", what, "open \(path)") }
            defer { close(fd) }
            archive_entry_set_size(entry, la_int64_t(info.st_size))
            try addXattrs(fd, entry, path)
            try writeHeader(entry, path)
            try copyData(fd, path)
        case S_IFDIR:
            let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw ImageError.syscall("image", what, "open \(path)") }
            defer { close(fd) }
            let opaque = try addXattrs(fd, entry, path)
            try writeHeader(entry, path)
            if opaque { try writeMarker(path + "/" + LayerUnpacker.opaqueWhiteout) }
            try walk(fd, prefix: path + "/")
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlinkat(parent, name, &target, target.count - 1)
            guard length >= 0 else { throw ImageError.syscall("image", what, "readlink \(path)") }
            target[length] = 0
            archive_entry_set_symlink(entry, target)
            try writeHeader(entry, path)
        default:
            // Devices and FIFOs: only their header.
            archive_entry_set_rdev(entry, info.st_rdev)
            try writeHeader(entry, path)
        }
    }

    /// `dir/.wh.NAME` for `dir/NAME`.
    private func whiteout(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return LayerUnpacker.whiteoutPrefix + path }
        return path[...slash] + LayerUnpacker.whiteoutPrefix + path[path.index(after: slash)...]
    }

    /// An empty marker file (whiteout or opaque), owned by root, mode 0, dated 0.
    private func writeMarker(_ path: String) throws(ImageError) {
        let entry = archive_entry_new()!
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, path)
        archive_entry_set_mode(entry, FileType.regular)
        archive_entry_set_size(entry, 0)
        archive_entry_set_mtime(entry, 0, 0)
        try writeHeader(entry, path)
    }

    /// Adds the xattrs of `fd` but overlayfs' own; returns whether the directory is opaque.
    @discardableResult
    private func addXattrs(_ fd: Int32, _ entry: OpaquePointer, _ path: String) throws(ImageError) -> Bool {
        let size = flistxattr(fd, nil, 0)
        guard size > 0 else { return false }
        var list = [CChar](repeating: 0, count: size)
        let length = flistxattr(fd, &list, size)
        guard length >= 0 else { throw ImageError.syscall("image", what, "listxattr \(path)") }
        let names = list[0..<length].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        var opaque = false
        for name in names.sorted() {
            if name.hasPrefix("trusted.overlay.") {
                if name == LayerUnpacker.opaqueAttribute { opaque = value(fd, name) == [UInt8(ascii: "y")] }
                continue
            }
            guard let bytes = value(fd, name) else { throw ImageError.syscall("image", what, "getxattr \(path) \(name)") }
            bytes.withUnsafeBytes { archive_entry_xattr_add_entry(entry, name, $0.baseAddress, $0.count) }
        }
        return opaque
    }

    private func value(_ fd: Int32, _ name: String) -> [UInt8]? {
        let size = fgetxattr(fd, name, nil, 0)
        guard size >= 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        return fgetxattr(fd, name, &bytes, size) == size ? bytes : nil
    }

    private func writeHeader(_ entry: OpaquePointer, _ path: String) throws(ImageError) {
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure("write \(path)") }
    }

    private func copyData(_ fd: Int32, _ path: String) throws(ImageError) {
        try forEachChunk(of: fd, path) { (chunk, _) throws(ImageError) in
            guard archive_write_data(archive, chunk.baseAddress, chunk.count) == chunk.count else { throw failure("write \(path)") }
        }
    }

    private func failure(_ step: String) -> ImageError {
        ImageError("image", what, "\(step): " + (archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"))
    }
}
