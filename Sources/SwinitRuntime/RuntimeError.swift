// SPDX-License-Identifier: Apache-2.0
// The runtime's one error type: which step failed, on which path, and why.
import Glibc

/// A failure of swinit-run itself (not of the container's program).
///
/// `description` is the one line the CLI prints after `swinit-run: `, e.g.
/// `mount overlay on /run/swinit-run/c1/merged: Invalid argument`.
public struct RuntimeError: Error, CustomStringConvertible, Equatable {
    /// The step that failed, verb first: `mount overlay`, `pivot_root`.
    public var operation: String
    /// The object the step worked on, if any (a path, a name).
    public var path: String?
    /// The `errno` of the failed call, or nil for a failure that is not a syscall's.
    public var errno: Int32?
    /// A reason in words, used when there is no errno.
    public var reason: String?
    /// The exit status swinit-run ends with: 125 for its own failures,
    /// 126/127 when the command itself could not be executed (`--no-init`).
    public var exitCode: Int32

    public init(_ operation: String, path: String? = nil, errno: Int32? = nil, reason: String? = nil,
                exitCode: Int32 = 125) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.reason = reason
        self.exitCode = exitCode
    }

    /// A failed syscall: reads the current `errno`, and adds a hint for the
    /// errors users run into (bubblewrap does the same).
    public static func syscall(_ operation: String, _ path: String? = nil) -> RuntimeError {
        let code = Glibc.errno
        return RuntimeError(operation, path: path, errno: code, reason: hint(operation, code))
    }

    static func hint(_ operation: String, _ code: Int32) -> String? {
        switch (operation, code) {
        case ("unshare", EPERM), ("mkdir state directory", EACCES):
            return "swinit-run needs root, or CAP_SYS_ADMIN"
        case ("mount overlay on", EINVAL):
            return "a layer or the upper directory is on a filesystem overlayfs cannot use, or a path is too long"
        case ("mount overlay on", ELOOP):
            return "a layer is used twice or overlaps the upper directory"
        default:
            return nil
        }
    }

    public var description: String {
        var line = operation
        if let path { line += " \(path)" }
        if let errno { line += ": " + String(cString: strerror(errno)) }
        if let reason { line += errno == nil ? ": " + reason : " (" + reason + ")" }
        return line
    }
}

/// Runs `body` until it stops failing with EINTR; returns its result.
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && Glibc.errno == EINTR { continue }
        return result
    }
}

/// Calls `body`; a result of -1 becomes `RuntimeError.syscall(operation, path)`.
@discardableResult @inline(__always)
func check<T: BinaryInteger>(_ operation: @autoclosure () -> String, _ path: @autoclosure () -> String? = nil,
                             _ body: () -> T) throws(RuntimeError) -> T {
    let result = retryingOnInterrupt(body)
    if result == -1 { throw RuntimeError.syscall(operation(), path()) }
    return result
}
