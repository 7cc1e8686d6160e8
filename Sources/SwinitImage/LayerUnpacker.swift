// SPDX-License-Identifier: Apache-2.0
// Unpacks one layer tar into a directory overlayfs can use as a lowerdir,
// like the engines' overlay drivers do: OCI whiteouts become overlay
// whiteouts, metadata is kept, and a hostile entry stops the unpack.
//
// Every entry is resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
// | RESOLVE_NO_XDEV) against the layer's root descriptor, so a `..`, an
// absolute name, a symlink planted by an earlier entry, or one in a lower
// layer that a missing parent would have to go through, is refused before
// anything is written through it.
import CArchive
import CSwinit
import Glibc

/// archive_entry_filetype(3) values (AE_IF*, the S_IF* bits of stat(2)).
enum FileType {
    static let regular: mode_t = 0o100000
    static let directory: mode_t = 0o040000
    static let symlink: mode_t = 0o120000
    static let character: mode_t = 0o020000
    static let block: mode_t = 0o060000
    static let fifo: mode_t = 0o010000
}

/// Unpacks layer tars. Errors name the layer (`layer sha256:…: entry x: …`).
struct LayerUnpacker {
    /// What the errors call the layer: `layer sha256:…`.
    let what: String
    /// The directory being filled, SWINIT_O_PATH.
    let root: Int32
    /// The layers below, top-most first (SWINIT_O_PATH), for the symlink check.
    let lowers: [Int32]
    /// Whether character and block devices may be created (see `ImageStore.devicesAllowed`).
    let devicesAllowed: Bool
    /// Bytes of regular file data written.
    private(set) var size: Int64 = 0
    /// Directory mtimes, set last: creating children changes them.
    private var directoryTimes: [(EntryPath, timespec)] = []

    init(what: String, root: Int32, lowers: [Int32], devicesAllowed: Bool) {
        self.what = what
        self.root = root
        self.lowers = lowers
        self.devicesAllowed = devicesAllowed
    }

    /// The overlayfs opaque-directory attribute (Documentation/filesystems/overlayfs.rst).
    static let opaqueAttribute = "trusted.overlay.opaque"
    /// OCI whiteout prefixes (image-spec layer.md, "Whiteouts").
    static let whiteoutPrefix = ".wh."
    static let opaqueWhiteout = ".wh..wh..opq"

    /// Unpacks every entry of `archive`, then sets the directories' mtimes.
    mutating func unpack(_ archive: ArchiveReader) throws(ImageError) {
        while let entry = try archive.next() {
            try unpackEntry(entry, from: archive)
        }
        for (path, time) in directoryTimes.reversed() {
            let fd = openBeneath(root, path, flags: SWINIT_O_PATH | O_DIRECTORY)
            guard fd >= 0 else { throw fail(path, "open") }
            var times = [time, time]
            let result = futimens(fd, &times)
            close(fd)
            // SWINIT_O_PATH descriptors take futimens only on newer kernels; fall back to the proc path.
            if result != 0 { try setTimes(path, time) }
        }
    }

    private mutating func unpackEntry(_ entry: OpaquePointer, from archive: ArchiveReader) throws(ImageError) {
        guard let rawName = archive_entry_pathname(entry) else { throw refuse("?", "entry without a name") }
        let name = String(cString: rawName)
        guard let path = EntryPath(name) else {
            throw refuse(name, name.hasPrefix("/") ? "absolute path" : "path with ..")
        }
        if path.isRoot { return }
        let leaf = path.leaf
        if leaf == Self.opaqueWhiteout {
            try markOpaque(path.parent)
            return
        }
        if leaf.hasPrefix(Self.whiteoutPrefix) {
            // Other `.wh..wh.` names are aufs bookkeeping, which the engines skip too.
            if leaf.hasPrefix(Self.whiteoutPrefix + Self.whiteoutPrefix) { return }
            let target = String(leaf.dropFirst(Self.whiteoutPrefix.count))
            try whiteout(EntryPath(components: path.parent.components + [target]))
            return
        }
        let parent = try openParent(path)
        defer { close(parent) }
        if let link = archive_entry_hardlink(entry) {
            try hardlink(path, in: parent, to: String(cString: link))
            return
        }
        let type = archive_entry_filetype(entry)
        try makeRoom(path, in: parent, keepDirectory: type == FileType.directory)
        let mode = mode_t(archive_entry_perm(entry))
        let uid = uid_t(truncatingIfNeeded: archive_entry_uid(entry))
        let gid = gid_t(truncatingIfNeeded: archive_entry_gid(entry))
        let mtime = timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry))
        switch type {
        case FileType.regular:
            let fd = retryingOnInterrupt { openat(parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            guard fd >= 0 else { throw fail(path, "create") }
            defer { close(fd) }
            let fileSize = archive_entry_size(entry)
            try archive.readData(size: fileSize) { (chunk, offset) throws(ImageError) in
                guard writeAll(fd, chunk, at: offset) else { throw fail(path, "write") }
                size += Int64(chunk.count)
            }
            // A sparse file's trailing hole is not a block: set the length.
            guard ftruncate(fd, off_t(fileSize)) == 0 else { throw fail(path, "ftruncate") }
            try setMetadata(fd, path, entry: entry, uid: uid, gid: gid, mode: mode)
            var times = [mtime, mtime]
            guard futimens(fd, &times) == 0 else { throw fail(path, "futimens") }
        case FileType.directory:
            if mkdirat(parent, leaf, 0o700) != 0 && errno != EEXIST { throw fail(path, "mkdir") }
            let fd = openBeneath(root, path, flags: O_RDONLY | O_DIRECTORY)
            guard fd >= 0 else { throw fail(path, "open") }
            defer { close(fd) }
            try setMetadata(fd, path, entry: entry, uid: uid, gid: gid, mode: mode)
            directoryTimes.append((path, mtime))
        case FileType.symlink:
            guard let target = archive_entry_symlink(entry) else { throw refuse(name, "symlink without a target") }
            guard symlinkat(target, parent, leaf) == 0 else { throw fail(path, "symlink") }
            guard fchownat(parent, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw fail(path, "lchown") }
            var times = [mtime, mtime]
            guard utimensat(parent, leaf, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw fail(path, "utimensat") }
        case FileType.character, FileType.block, FileType.fifo:
            if type != FileType.fifo && !devicesAllowed {
                throw refuse(name, "device node, and the store is not root-only (mode 0700, owned by root)")
            }
            let rdev = archive_entry_rdev(entry)
            guard mknodat(parent, leaf, mode_t(type) | 0o600, rdev) == 0 else { throw fail(path, "mknod") }
            guard fchownat(parent, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw fail(path, "chown") }
            guard fchmodat(parent, leaf, mode, 0) == 0 else { throw fail(path, "chmod") }
            var times = [mtime, mtime]
            guard utimensat(parent, leaf, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw fail(path, "utimensat") }
        default:
            // Sockets have no place in a layer; Docker skips them too.
            return
        }
    }

    /// chown, then chmod (chown(2) clears set-user-ID), then the xattrs.
    private func setMetadata(_ fd: Int32, _ path: EntryPath, entry: OpaquePointer, uid: uid_t, gid: gid_t,
                             mode: mode_t) throws(ImageError) {
        guard fchown(fd, uid, gid) == 0 else { throw fail(path, "chown") }
        guard fchmod(fd, mode) == 0 else { throw fail(path, "chmod") }
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var length = 0
        while archive_entry_xattr_next(entry, &name, &value, &length) == ARCHIVE_OK, let name {
            // overlayfs' own attributes (redirect, metacopy, opaque) would let a
            // layer steer the overlay; only whiteout entries set them.
            if String(cString: name).hasPrefix("trusted.overlay.") { continue }
            guard fsetxattr(fd, name, value, length, 0) == 0 else {
                throw fail(path, "setxattr \(String(cString: name))")
            }
        }
    }

    /// Opens the directory that will hold `path`, SWINIT_O_PATH, creating missing
    /// parents (mode 0755) as tar does, but never where a lower layer has a
    /// symlink: the entry would mean to write through it.
    private func openParent(_ path: EntryPath) throws(ImageError) -> Int32 {
        let parent = path.parent
        let fd = openBeneath(root, parent, flags: SWINIT_O_PATH | O_DIRECTORY)
        if fd >= 0 { return fd }
        guard errno == ENOENT else { throw beneathFailure(path, parent) }
        var current = openBeneath(root, EntryPath(components: []), flags: SWINIT_O_PATH | O_DIRECTORY)
        for index in parent.components.indices {
            let prefix = EntryPath(components: Array(parent.components[...index]))
            var next = openBeneath(root, prefix, flags: SWINIT_O_PATH | O_DIRECTORY)
            if next < 0 && errno == ENOENT {
                if let lower = lowerSymlink(prefix) {
                    close(current)
                    throw refuse(path.description, "goes through \(prefix), a symlink in \(lower)")
                }
                if mkdirat(current, prefix.leaf, 0o755) != 0 && errno != EEXIST {
                    let error = fail(prefix, "mkdir")
                    close(current)
                    throw error
                }
                next = openBeneath(root, prefix, flags: SWINIT_O_PATH | O_DIRECTORY)
            }
            close(current)
            guard next >= 0 else { throw beneathFailure(path, prefix) }
            current = next
        }
        return current
    }

    /// The error for a lookup openat2 refused: ELOOP is a symlink on the way.
    private func beneathFailure(_ path: EntryPath, _ parent: EntryPath) -> ImageError {
        switch errno {
        case ELOOP: return refuse(path.description, "goes through a symlink in this layer")
        case EXDEV: return refuse(path.description, "leaves the layer")
        case ENOTDIR: return refuse(path.description, "a parent is not a directory")
        default: return fail(parent, "open")
        }
    }

    /// `a lower layer` when the top-most lower layer that has `path` has a
    /// symlink there; nil when none has it or it is something else.
    private func lowerSymlink(_ path: EntryPath) -> String? {
        for lower in lowers {
            let parent = openBeneath(lower, path.parent, flags: SWINIT_O_PATH | O_DIRECTORY)
            if parent < 0 {
                if errno == ENOENT { continue }
                return errno == ELOOP ? "a lower layer" : nil
            }
            var info = stat()
            let found = fstatat(parent, path.leaf, &info, AT_SYMLINK_NOFOLLOW) == 0
            close(parent)
            if !found { continue }
            return (info.st_mode & S_IFMT) == S_IFLNK ? "a lower layer" : nil
        }
        return nil
    }

    /// A later entry of the same name replaces an earlier one (tar order);
    /// a directory stays when the new entry is a directory too.
    private func makeRoom(_ path: EntryPath, in parent: Int32, keepDirectory: Bool) throws(ImageError) {
        var info = stat()
        guard fstatat(parent, path.leaf, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            if keepDirectory { return }
            guard removeTree(in: parent, path.leaf) else { throw fail(path, "remove") }
        } else if unlinkat(parent, path.leaf, 0) != 0 {
            throw fail(path, "unlink")
        }
    }

    /// `.wh.NAME`: an overlay whiteout, a character device 0/0 named NAME.
    private func whiteout(_ path: EntryPath) throws(ImageError) {
        guard path.leaf != "." && path.leaf != ".." && !path.leaf.isEmpty else {
            throw refuse(path.description, "whiteout of nothing")
        }
        let parent = try openParent(path)
        defer { close(parent) }
        try makeRoom(path, in: parent, keepDirectory: false)
        guard mknodat(parent, path.leaf, S_IFCHR, 0) == 0 else { throw fail(path, "mknod whiteout") }
    }

    /// `.wh..wh..opq`: the directory hides what lower layers have in it.
    private func markOpaque(_ directory: EntryPath) throws(ImageError) {
        // openParent of a child makes the directory (and its parents) if the
        // layer has no entry for it, with the same symlink checks.
        let holder = try openParent(EntryPath(components: directory.components + ["x"]))
        close(holder)
        let fd = openBeneath(root, directory, flags: O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw beneathFailure(directory, directory) }
        defer { close(fd) }
        guard fsetxattr(fd, Self.opaqueAttribute, "y", 1, 0) == 0 else {
            throw fail(directory, "setxattr \(Self.opaqueAttribute)")
        }
    }

    /// A hard link to an earlier entry of this layer, and nothing else.
    private func hardlink(_ path: EntryPath, in parent: Int32, to target: String) throws(ImageError) {
        guard let targetPath = EntryPath(target), !targetPath.isRoot else {
            throw refuse(path.description, "hard link to \(target), outside the layer")
        }
        let targetParent = openBeneath(root, targetPath.parent, flags: SWINIT_O_PATH | O_DIRECTORY)
        guard targetParent >= 0 else {
            throw errno == ENOENT ? refuse(path.description, "hard link to \(target), not in this layer")
                : beneathFailure(targetPath, targetPath.parent)
        }
        defer { close(targetParent) }
        var info = stat()
        guard fstatat(targetParent, targetPath.leaf, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw refuse(path.description, "hard link to \(target), not in this layer")
        }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw refuse(path.description, "hard link to a directory") }
        try makeRoom(path, in: parent, keepDirectory: false)
        guard linkat(targetParent, targetPath.leaf, parent, path.leaf, 0) == 0 else { throw fail(path, "link") }
    }

    /// utimensat(2) on a directory by its own descriptor's /proc path.
    private func setTimes(_ path: EntryPath, _ time: timespec) throws(ImageError) {
        let fd = openBeneath(root, path, flags: O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw fail(path, "open") }
        defer { close(fd) }
        var times = [time, time]
        guard futimens(fd, &times) == 0 else { throw fail(path, "futimens") }
    }

    private func refuse(_ name: String, _ reason: String) -> ImageError {
        ImageError("image", what, "entry \(name): refused: \(reason)")
    }

    private func fail(_ path: EntryPath, _ call: String) -> ImageError {
        ImageError.syscall("image", what, "entry \(path): \(call)")
    }
}
