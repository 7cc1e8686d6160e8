// SPDX-License-Identifier: Apache-2.0
// errno as a value, and the one error type the init's syscall wrappers throw.
import CSwinit

/// An `errno` value, as a type (see errno(3)).
public struct Errno: Equatable, Sendable {
    /// The C `errno` number.
    public let rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(swinit_errno()) }

    /// The C library's description, e.g. "No such file or directory" (see strerror(3)).
    public var description: UnsafeMutablePointer<CChar> { strerror(rawValue) }

    /// `EINTR`: a signal interrupted the call.
    public static let interrupted = Errno(EINTR)
    /// `ECHILD`: the caller has no child to wait for.
    public static let noChildProcess = Errno(ECHILD)
    /// `ESRCH`: no process or process group matches.
    public static let noSuchProcess = Errno(ESRCH)
    /// `EPERM`: not permitted.
    public static let notPermitted = Errno(EPERM)
    /// `ENOENT`: no such file or directory.
    public static let noSuchFile = Errno(ENOENT)
    /// `ENOTDIR`: a path component is not a directory.
    public static let notDirectory = Errno(ENOTDIR)
    /// `EAGAIN`: try again.
    public static let wouldBlock = Errno(EAGAIN)
}

/// A failed system call: which one, and why.
public struct SyscallError: Error {
    /// The call that failed, as users grep for it ("signalfd", "waitpid").
    public let call: StaticString
    /// Why it failed.
    public let errno: Errno

    public init(_ call: StaticString, _ errno: Errno = .current) {
        self.call = call
        self.errno = errno
    }
}

/// Runs `body` until it returns something other than -1 with `EINTR`.
///
/// - Returns: the call's result (>= 0).
/// - Throws: `SyscallError(call, errno)` when it returned -1 for another reason.
@inline(__always)
public func retryingOnInterrupt<Result: BinaryInteger>(
    _ call: StaticString, _ body: () -> Result
) throws(SyscallError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let errno = Errno.current
        if errno != .interrupted { throw SyscallError(call, errno) }
    }
}
