// SPDX-License-Identifier: Apache-2.0
// Stage 2 → host failure report over the CLOEXEC sync pipe: one message,
// `CODE MESSAGE`. A successful exec closes the pipe empty.
import Glibc

enum ErrorPipe {
    /// Stage 2's end of the pipe, fixed by posix_spawn's dup2.
    static let stage2Descriptor: Int32 = 3

    /// Writes `error` to the pipe (best effort: the host may be gone).
    static func report(_ error: RuntimeError) {
        let message = "\(error.exitCode) \(error.description)"
        _ = message.withCString { write(stage2Descriptor, $0, strlen($0)) }
    }

    /// Parses a report; nil for an empty one (the exec succeeded).
    static func decode(_ bytes: [UInt8]) -> RuntimeError? {
        guard !bytes.isEmpty else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 1)
        if parts.count == 2, let code = Int32(parts[0]) {
            return RuntimeError(String(parts[1]), exitCode: code)
        }
        return RuntimeError(text)
    }
}
