// SPDX-License-Identifier: Apache-2.0
// flock(2) on a file of the store: writers (load, rm, prune) exclusive on
// `write.lock`; runs hold `run.lock` shared for the container's life, so
// prune never removes a layer under a running container. kill -9 releases both.
import Glibc

/// A held flock(2); released when the value is dropped (or explicitly).
public final class FileLock {
    private let descriptor: Int32

    /// Opens (creating, mode 0600) and locks `path`.
    /// - Parameters:
    ///   - exclusive: LOCK_EX, else LOCK_SH.
    ///   - wait: block until the lock is free; else fail at once with EWOULDBLOCK.
    /// - Throws: `ImageError` naming the lock file and the errno.
    public init(_ path: String, exclusive: Bool, wait: Bool = true) throws(ImageError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImageError.syscall("image", path, "open lock") }
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        guard retryingOnInterrupt({ flock(fd, operation) }) == 0 else {
            let error = ImageError.syscall("image", path, "flock")
            close(fd)
            throw error
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Holds the lock on `path` while `body` runs.
    public static func holding<T>(_ path: String, exclusive: Bool, wait: Bool = true,
                                  _ body: () throws(ImageError) -> T) throws(ImageError) -> T {
        let lock = try FileLock(path, exclusive: exclusive, wait: wait)
        return try withExtendedLifetime(lock) { () throws(ImageError) -> T in try body() }
    }
}
