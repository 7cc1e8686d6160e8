// SPDX-License-Identifier: Apache-2.0
// `--upper DIR` holds a writable layer that outlives the container; two
// overlay mounts sharing one upperdir give undefined results (the kernel
// only warns), so a container holds an flock(2) on DIR for its life and a
// second one on the same DIR is refused. kill -9 releases the lock.
import Glibc

/// An exclusive flock(2) on a persistent upper directory.
struct UpperLock {
    private let descriptor: Int32

    /// Locks `path` (the `--upper` DIR) without waiting.
    /// - Throws: `RuntimeError` "lock upper DIR: in use by another running
    ///   container" when another holds it, or the errno of open/flock.
    init(_ path: String) throws(RuntimeError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw RuntimeError.syscall("open upper", path) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK {
                throw RuntimeError("lock upper", path: path, reason: "in use by another running container")
            }
            throw RuntimeError("lock upper", path: path, errno: code)
        }
        descriptor = fd
    }

    /// Drops the lock (closes its descriptor). Call once, when the container is gone.
    func release() { close(descriptor) }
}
