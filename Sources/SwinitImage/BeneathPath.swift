// SPDX-License-Identifier: Apache-2.0
// Paths inside a layer directory, always resolved by the kernel with
// openat2(2) RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS against the layer's root
// descriptor, never by joining strings: no `..`, no symlink, no other
// filesystem can take a write outside the layer.
import CSwinit
import Glibc

/// openat2(2) resolve flags (linux/openat2.h).
enum Resolve {
    static let noXDev: UInt64 = 0x01
    static let noMagicLinks: UInt64 = 0x02
    static let noSymlinks: UInt64 = 0x04
    static let beneath: UInt64 = 0x08
    /// What every lookup in a layer uses.
    static let strict = noXDev | noMagicLinks | noSymlinks | beneath
}

/// A relative path as its components, checked: no `..`, not absolute, no NUL.
struct EntryPath: Equatable, CustomStringConvertible {
    let components: [String]

    /// Parses a tar entry name. `./` and empty components are dropped;
    /// an absolute path or a `..` component is refused (nil).
    init?(_ text: String) {
        guard !text.hasPrefix("/"), !text.contains("\0") else { return nil }
        var parts: [String] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." { return nil }
            parts.append(String(part))
        }
        components = parts
    }

    init(components: [String]) { self.components = components }

    var description: String { components.joined(separator: "/") }
    var isRoot: Bool { components.isEmpty }
    var leaf: String { components.last ?? "." }
    var parent: EntryPath { EntryPath(components: Array(components.dropLast())) }
    /// The path for openat2: `.` for the root itself.
    var relative: String { components.isEmpty ? "." : description }
}

/// openat2(2) of `path` under `root` with `Resolve.strict`; -1 and errno on failure.
func openBeneath(_ root: Int32, _ path: EntryPath, flags: Int32) -> Int32 {
    retryingOnInterrupt {
        swinit_openat2(root, path.relative, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), 0, Resolve.strict)
    }
}

/// Removes `name` in `directory` and everything below it without following
/// any symlink (unlinkat(2) on each entry found by fdopendir(3)).
/// - Returns: false when something could not be removed (errno set).
@discardableResult
func removeTree(in directory: Int32, _ name: String) -> Bool {
    if unlinkat(directory, name, 0) == 0 || errno == ENOENT { return true }
    guard errno == EISDIR || errno == EPERM else { return false }
    let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0, let stream = fdopendir(fd) else { return false }
    var children: [String] = []
    while let entry = readdir(stream) {
        let child = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if child != "." && child != ".." { children.append(child) }
    }
    var removed = true
    for child in children where !removeTree(in: fd, child) { removed = false }
    closedir(stream)
    return removed && (unlinkat(directory, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
}

/// removeTree for an absolute or working-directory-relative path.
@discardableResult
func removeTree(_ path: String) -> Bool { removeTree(in: AT_FDCWD, path) }

/// Bytes of regular file data under `name` in `directory` (symlinks not followed).
func treeSize(in directory: Int32, _ name: String) -> Int64 {
    var info = stat()
    guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return 0 }
    if (info.st_mode & S_IFMT) == S_IFREG { return Int64(info.st_size) }
    guard (info.st_mode & S_IFMT) == S_IFDIR else { return 0 }
    let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0, let stream = fdopendir(fd) else { return 0 }
    defer { closedir(stream) }
    var total: Int64 = 0
    while let entry = readdir(stream) {
        let child = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if child != "." && child != ".." { total += treeSize(in: fd, child) }
    }
    return total
}
