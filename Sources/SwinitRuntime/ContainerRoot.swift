// SPDX-License-Identifier: Apache-2.0
// Paths inside the container's root, resolved with openat2(RESOLVE_IN_ROOT)
// so that no symlink in the image can point a mount out of the root.
import CSwinit
import Glibc

/// The merged overlay directory, before pivot_root, seen through an SWINIT_O_PATH fd.
struct ContainerRoot: ~Copyable {
    /// SWINIT_O_PATH|O_DIRECTORY fd of the root.
    let fd: Int32
    /// The root's path on the host side, for messages.
    let hostPath: String

    enum Kind { case directory, file }

    init(hostPath: String) throws(RuntimeError) {
        self.hostPath = hostPath
        fd = try check("open", hostPath) { Glibc.open(hostPath, SWINIT_O_PATH | O_DIRECTORY | O_CLOEXEC) }
    }

    deinit { close(fd) }

    /// `path` as shown in messages: host path of the root + container path.
    func name(_ path: String) -> String { hostPath + (path.hasPrefix("/") ? path : "/" + path) }

    /// Opens `path` (inside the root) as SWINIT_O_PATH; follows symlinks in-root.
    /// Returns -1 with errno set on failure.
    func open(_ path: String, extraFlags: Int32 = 0) -> Int32 {
        swinit_openat2(fd, path, UInt64(SWINIT_O_PATH | O_CLOEXEC | extraFlags), 0,
                       UInt64(SWINIT_RESOLVE_IN_ROOT | SWINIT_RESOLVE_NO_MAGICLINKS))
    }

    /// Opens `path`, creating it (and missing parents, like `mkdir -p`) as a
    /// directory or an empty file when it does not exist. Returns an SWINIT_O_PATH fd.
    /// - Throws: `RuntimeError` "create mount point …" naming the path.
    func openOrCreate(_ path: String, as kind: Kind) throws(RuntimeError) -> Int32 {
        let existing = open(path)
        if existing >= 0 { return existing }
        guard errno == ENOENT else { throw RuntimeError.syscall("open", name(path)) }
        let components = path.split(separator: "/").map(String.init)
        guard let last = components.last else { throw RuntimeError.syscall("open", name(path)) }
        let parentPath = "/" + components.dropLast().joined(separator: "/")
        let parent = try components.count == 1 ? dup(fd) : openOrCreate(parentPath, as: .directory)
        defer { close(parent) }
        // The parent is resolved; create the last component with *at calls on it
        // (a single name, so nothing more to resolve).
        switch kind {
        case .directory:
            if mkdirat(parent, last, 0o755) != 0 && errno != EEXIST {
                throw RuntimeError.syscall("create mount point", name(path))
            }
        case .file:
            let file = openat(parent, last, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if file < 0 && errno != EEXIST { throw RuntimeError.syscall("create mount point", name(path)) }
            if file >= 0 { close(file) }
        }
        let created = open(path)
        if created < 0 { throw RuntimeError.syscall("open", name(path)) }
        return created
    }

    /// Mounts onto `path` inside the root, creating the mount point.
    /// The mount goes to `/proc/self/fd/N` of the resolved fd (crun does the same).
    func mount(_ source: String?, at path: String, as kind: Kind = .directory, type: String?, flags: UInt,
               data: String? = nil, what: String) throws(RuntimeError) {
        let target = try openOrCreate(path, as: kind)
        defer { close(target) }
        try Mount.mount(source, on: "/proc/self/fd/\(target)", type: type, flags: flags, data: data,
                        what: what, name: name(path))
    }

    /// Bind-mounts host `source` at `path`, then remounts the bind with
    /// `flags` (MS_RDONLY, MS_NOSUID, …). The remount reopens `path` so it
    /// reaches the new mount, not the directory it covers.
    func bind(_ source: String, at path: String, as kind: Kind, recursive: Bool = false,
              flags: UInt) throws(RuntimeError) {
        try mount(source, at: path, as: kind, type: nil, flags: Mount.bind | (recursive ? Mount.recursive : 0),
                  what: "bind \(source)")
        if flags != 0 { try remount(path, flags: flags) }
        if recursive && flags != 0 { try setRecursively(path, flags: flags) }
    }

    /// The remount above reaches only the topmost mount; a mount below the
    /// source (a tmpfs in a volume) would stay writable, suid and dev. So
    /// the same flags go onto every mount of the subtree (mount_setattr(2)
    /// with AT_RECURSIVE, as Docker 25 does for read-only binds). Before
    /// Linux 5.12 (ENOSYS) the top alone is what the kernel can do.
    func setRecursively(_ path: String, flags: UInt) throws(RuntimeError) {
        let target = open(path)
        if target < 0 { throw RuntimeError.syscall("open", name(path)) }
        defer { close(target) }
        var attributes: UInt64 = 0
        for (flag, attribute) in [(Mount.readOnly, 0x1), (Mount.nosuid, 0x2), (Mount.nodev, 0x4), (Mount.noexec, 0x8)]
            where flags & flag != 0 { attributes |= UInt64(attribute) }
        if swinit_run_mount_setattr_recursive(target, attributes) != 0 && errno != ENOSYS {
            throw RuntimeError.syscall("mount_setattr", name(path))
        }
    }

    /// MS_REMOUNT|MS_BIND of the topmost mount at `path` with `flags`.
    func remount(_ path: String, flags: UInt) throws(RuntimeError) {
        let target = open(path)
        if target < 0 { throw RuntimeError.syscall("open", name(path)) }
        defer { close(target) }
        try Mount.mount(nil, on: "/proc/self/fd/\(target)", type: nil, flags: Mount.remount | Mount.bind | flags,
                        what: "remount", name: name(path))
    }
}
