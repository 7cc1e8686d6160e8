// SPDX-License-Identifier: Apache-2.0
// The image module's one error type: which command, which object, what is wrong.
import Glibc

/// A failure of an image operation. `description` is the line the CLI prints
/// after `swinit-run: `, e.g. `image load: layer sha256:ab…: digest mismatch`.
public struct ImageError: Error, CustomStringConvertible, Equatable {
    /// The command or step: `image load`, `image rm`, `image`.
    public var operation: String
    /// What it worked on: `layer sha256:…`, `manifest.json`, a path, a name.
    public var object: String?
    /// What is wrong, in words (`digest mismatch`, `truncated`).
    public var reason: String
    /// The exit status: 125 (a failed step, like the runtime's own failures).
    public var exitCode: Int32 = 125

    public init(_ operation: String, _ object: String? = nil, _ reason: String) {
        self.operation = operation
        self.object = object
        self.reason = reason
    }

    /// A failed syscall: `reason` is `WHAT: strerror(errno)`.
    static func syscall(_ operation: String, _ object: String?, _ call: String, errno code: Int32 = Glibc.errno)
        -> ImageError
    {
        ImageError(operation, object, "\(call): " + String(cString: strerror(code)))
    }

    public var description: String {
        [operation, object].compactMap { $0 }.joined(separator: ": ") + ": " + reason
    }

    /// The same error under another operation name (`image load`), keeping the object.
    func during(_ operation: String) -> ImageError {
        var copy = self
        copy.operation = operation
        return copy
    }
}

/// Runs `body` until it stops failing with EINTR.
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && Glibc.errno == EINTR { continue }
        return result
    }
}

/// pwrite(2) until all of `bytes` is written at `position`; false (errno set) on failure.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at position: Int64) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let written = retryingOnInterrupt {
            pwrite(fd, bytes.baseAddress! + offset, bytes.count - offset, off_t(position) + off_t(offset))
        }
        guard written > 0 else { return false }
        offset += written
    }
    return true
}
