// SPDX-License-Identifier: Apache-2.0
// The files of an image as `image load` was given them: an OCI layout or
// unpacked `docker save` directory, or an archive of either (tar, maybe
// gzip- or zstd-compressed), whose regular files are staged into scratch
// files named by number, so no name in the archive ever becomes a host path.
import CArchive
import Glibc

/// Named files of an image source. Names are relative (`index.json`,
/// `blobs/sha256/…`, `abc/layer.tar`); `..` and absolute names are refused.
final class ImageFiles {
    /// The source as the user named it, for messages.
    let source: String
    private let directory: String?
    private var staged: [String: String] = [:]
    private var links: [String: String] = [:]

    /// Opens `path`: a directory is read in place; a file is an archive,
    /// staged into `scratch` (which the caller removes).
    init(_ path: String, scratch: String) throws(ImageError) {
        source = path
        var info = stat()
        guard stat(path, &info) == 0 else { throw ImageError.syscall("image load", path, "stat") }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            directory = path
            return
        }
        directory = nil
        try stage(path, into: scratch)
    }

    /// The host path of `name`; throws when the source has no such file.
    func path(_ name: String) throws(ImageError) -> String {
        guard let entry = EntryPath(name), !entry.isRoot else {
            throw ImageError("image load", name, "refused: path outside the image")
        }
        if let directory {
            // A directory is the user's own: read it as they would, without following symlinks out.
            let path = directory + "/" + entry.description
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                throw ImageError("image load", name, "missing from \(source)")
            }
            return path
        }
        var key = entry.description
        for _ in 0..<8 {
            if let file = staged[key] { return file }
            guard let target = links[key] else { break }
            key = target
        }
        throw ImageError("image load", name, "missing from \(source)")
    }

    func exists(_ name: String) -> Bool { (try? path(name)) != nil }

    /// The whole of a small file (JSON): at most `limit` bytes.
    func read(_ name: String, limit: Int = 16 << 20) throws(ImageError) -> [UInt8] {
        try Self.readFile(path(name), what: name, limit: limit)
    }

    static func readFile(_ path: String, what: String, limit: Int) throws(ImageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.syscall("image load", what, "open") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = retryingOnInterrupt { Glibc.read(fd, &chunk, chunk.count) }
            if count < 0 { throw ImageError.syscall("image load", what, "read") }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            if bytes.count > limit { throw ImageError("image load", what, "larger than \(limit >> 20) MiB") }
        }
    }

    /// Copies the archive's regular files to `scratch/N`; remembers symlinks
    /// and hard links (old `docker save` links duplicate layers) by name.
    private func stage(_ path: String, into scratch: String) throws(ImageError) {
        let archive = try ArchiveReader(tarAt: path, what: path)
        var count = 0
        while let entry = try archive.next() {
            let raw = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            guard let name = EntryPath(raw) else {
                throw ImageError("image load", path, "entry \(raw): refused: path outside the image")
            }
            if let target = archive_entry_hardlink(entry).map({ String(cString: $0) }) {
                guard let resolved = EntryPath(target) else {
                    throw ImageError("image load", path, "entry \(raw): refused: link outside the image")
                }
                links[name.description] = resolved.description
                continue
            }
            switch archive_entry_filetype(entry) {
            case FileType.regular:
                count += 1
                let file = scratch + "/\(count)"
                try copyData(archive, to: file)
                staged[name.description] = file
            case FileType.symlink:
                let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
                guard let resolved = Self.resolve(target, from: name.parent) else {
                    throw ImageError("image load", path, "entry \(raw): refused: link outside the image")
                }
                links[name.description] = resolved.description
            default:
                continue
            }
        }
        if staged.isEmpty { throw ImageError("image load", path, "not an image archive (no files in it)") }
    }

    /// A relative symlink target seen from `directory`, `..` applied by name
    /// (these names never touch the host); nil when it is absolute or leaves the archive.
    static func resolve(_ target: String, from directory: EntryPath) -> EntryPath? {
        guard !target.hasPrefix("/") else { return nil }
        var components = directory.components
        for part in target.split(separator: "/") where part != "." {
            if part == ".." {
                guard components.popLast() != nil else { return nil }
            } else {
                components.append(String(part))
            }
        }
        return EntryPath(components: components)
    }

    private func copyData(_ archive: ArchiveReader, to file: String) throws(ImageError) {
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImageError.syscall("image load", file, "create") }
        defer { close(fd) }
        try archive.readData { (chunk, offset) throws(ImageError) in
            guard writeAll(fd, chunk, at: offset) else { throw ImageError.syscall("image load", file, "write") }
        }
    }
}
