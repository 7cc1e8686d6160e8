// SPDX-License-Identifier: Apache-2.0
// What waitpid(2) said about a child, and the exit code a shell would give it.
import CSwinit

/// A child's state change as reported by waitpid(2).
public enum WaitStatus: Equatable, Sendable {
    /// It called exit(code).
    case exited(Int32)
    /// A signal killed it.
    case signaled(Int32)
    /// A signal stopped it (only reported when waiting with WUNTRACED).
    case stopped(Int32)

    /// Decodes a raw status with the WIF* macros (see waitpid(2)).
    public init(raw status: Int32) {
        if swinit_wifexited(status) != 0 {
            self = .exited(swinit_wexitstatus(status))
        } else if swinit_wifsignaled(status) != 0 {
            self = .signaled(swinit_wtermsig(status))
        } else {
            self = .stopped(swinit_wstopsig(status))
        }
    }

    /// The code a shell reports for it, as bash(1) documents: the exit code,
    /// or 128+N for a death by signal N. Always in 0...255.
    public var shellExitCode: Int32 {
        switch self {
        case .exited(let code): return code & 0xff
        case .signaled(let signal), .stopped(let signal): return (128 + signal) & 0xff
        }
    }
}
