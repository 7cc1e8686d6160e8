// SPDX-License-Identifier: Apache-2.0
// The last steps before the container's PID 1 runs: clean fds and signals,
// then execve(2).
import CSwinit
import Glibc

enum ProcessImage {
    /// Closes every fd from `first` on (close_range(2)), so only 0–2 and the
    /// CLOEXEC error pipe below `first` reach the exec.
    static func closeDescriptors(from first: UInt32) {
        if swinit_run_close_range(first, UInt32.max) == 0 { return }
        for fd in Int32(first)..<1024 { close(fd) }
    }

    /// Empties the signal mask and sets every disposition to SIG_DFL, so the
    /// container's PID 1 starts from a clean slate (sigprocmask(2), sigaction(2)).
    static func resetSignals() {
        swinit_run_reset_dispositions()
        _ = swinit_run_sigprocmask(SIG_SETMASK, 0, nil)
    }

    /// Executes `arguments[0]` with `environment`. A name without `/` is
    /// looked up in the container's PATH like execvp(3).
    /// - Throws: `RuntimeError` "exec NAME: strerror", exit code 127 when it
    ///   was not found and 126 otherwise (like a shell, tini and docker).
    static func exec(_ arguments: [String], environment: [String]) -> RuntimeError {
        guard let name = arguments.first, !name.isEmpty else {
            return RuntimeError("exec", reason: "no command given", exitCode: 127)
        }
        var candidates = [name]
        if !name.contains("/") {
            let path = environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
                ?? ContainerEnvironment.defaultPath
            candidates = path.split(separator: ":", omittingEmptySubsequences: false).map {
                ($0.isEmpty ? "." : String($0)) + "/" + name
            }
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        var firstError: Int32 = ENOENT
        for candidate in candidates {
            execve(candidate, argv, envp)
            // Like execvp: remember EACCES, keep searching past ENOENT/ENOTDIR.
            if errno != ENOENT && errno != ENOTDIR && firstError == ENOENT { firstError = errno }
        }
        return RuntimeError("exec", path: name, errno: firstError, exitCode: firstError == ENOENT ? 127 : 126)
    }
}
