// SPDX-License-Identifier: Apache-2.0
// The per-container state directory on the host. It holds only a lock file
// (the owner keeps an flock(2) on it for its life) and is the mount point of
// the container's scratch tmpfs inside the container's mount namespace.
// kill -9 releases the lock, so the next run can tell a stale directory.
import Glibc

/// A locked state directory, `ROOT/NAME`.
public struct StateDirectory {
    /// Where state directories live; `SWINIT_RUN_STATE` overrides it.
    public static var root: String {
        if let value = getenv("SWINIT_RUN_STATE") { return String(cString: value) }
        return "/run/swinit-run"
    }

    /// A directory without a lock file older than this is a crashed start.
    static let unlockedGraceSeconds = 60

    public let path: String
    private let lockDescriptor: Int32

    /// Creates and locks `root/name` after removing stale directories, but
    /// those named in `keeping` (their container's cgroup is still there:
    /// the next run must still find the owner gone and remove it).
    /// - Throws: `RuntimeError` when `name` is held by a running container or
    ///   the directory cannot be made.
    public init(name: String, keeping: Set<String> = []) throws(RuntimeError) {
        let root = Self.root
        try Self.makeDirectories(root)
        try Self.restrict(root)
        Self.removeStale(in: root, keeping: keeping)
        let path = root + "/" + name
        self.path = path
        if mkdir(path, 0o700) != 0 {
            guard errno == EEXIST else { throw RuntimeError.syscall("mkdir state directory", path) }
            guard Self.removeIfStale(path) else {
                throw RuntimeError("create state directory", path: path, reason: "name in use by a running container")
            }
            try check("mkdir state directory", path) { mkdir(path, 0o700) }
        }
        // Lock under a temporary name, then rename: a directory whose `lock`
        // exists is always locked by a live owner or stale, never half-made.
        let fresh = path + "/lock.new"
        let lock = open(fresh, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if lock < 0 { throw RuntimeError.syscall("create lock", fresh) }
        if flock(lock, LOCK_EX | LOCK_NB) != 0 || rename(fresh, path + "/lock") != 0 {
            let error = RuntimeError.syscall("lock state directory", path)
            close(lock)
            throw error
        }
        lockDescriptor = lock
    }

    /// Removes the directory and releases the lock. Call once.
    public func remove() {
        unlink(path + "/lock")
        rmdir(path)
        close(lockDescriptor)
    }

    static func makeDirectories(_ path: String) throws(RuntimeError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw RuntimeError.syscall("mkdir", prefix) }
        }
    }

    /// Makes `root` root-only (0700, as Docker keeps /run/docker) when it was
    /// made, or left, with access for others; a shared sticky directory
    /// such as /tmp is left alone. Every container's directory is 0700 anyway.
    static func restrict(_ root: String) throws(RuntimeError) {
        var info = stat()
        try check("stat", root) { stat(root, &info) }
        guard info.st_mode & 0o077 != 0, info.st_mode & S_ISVTX == 0 else { return }
        try check("chmod 0700", root) { chmod(root, 0o700) }
    }

    /// Removes every directory in `root` whose owner is gone.
    static func removeStale(in root: String, keeping: Set<String> = []) {
        guard let directory = opendir(root) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." || keeping.contains(name) { continue }
            _ = removeIfStale(root + "/" + name)
        }
    }

    /// Removes `path` if no live swinit-run holds its lock; returns whether it is gone.
    @discardableResult
    static func removeIfStale(_ path: String) -> Bool {
        let lock = open(path + "/lock", O_RDONLY | O_CLOEXEC)
        if lock < 0 {
            guard errno == ENOENT else { return false }
            // No lock yet: either being created right now or a crash mid-creation.
            var info = stat()
            guard stat(path, &info) == 0 else { return errno == ENOENT }
            guard time(nil) - info.st_mtim.tv_sec > unlockedGraceSeconds else { return false }
        } else {
            defer { close(lock) }
            guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { return false }
            unlink(path + "/lock")
        }
        unlink(path + "/lock.new")
        return rmdir(path) == 0 || errno == ENOENT
    }
}
