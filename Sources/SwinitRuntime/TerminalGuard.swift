// SPDX-License-Identifier: Apache-2.0
// `-it`: a small watcher that restores the caller's terminal when swinit-run
// cannot, because it was killed with SIGKILL (or crashed). It is a re-exec of
// swinit-run, spawned when the terminal goes raw, that holds the saved
// settings and waits on a pipe: swinit-run's "restored" byte lets it go
// quietly; end of file without it means swinit-run died, so it restores them.
import CSwinit
import Glibc

/// The terminal guard, both sides.
public enum TerminalGuard {
    /// The hidden first argument that makes swinit-run act as the guard.
    public static let marker = "__swinit-run-terminal-guard__"
    /// The guard's end of the pipe, fixed by posix_spawn's dup2.
    static let guardDescriptor: Int32 = 3

    /// Spawns the guard for the terminal on fd 0 with `saved` as the settings
    /// to restore. Returns our end of the pipe (CLOEXEC), or nil when the
    /// guard could not be started: then only swinit-run itself restores.
    static func spawn(restoring saved: termios) -> Int32? {
        var ends: [Int32] = [-1, -1]
        guard swinit_run_pipe2(&ends, O_CLOEXEC) == 0 else { return nil }
        defer { close(ends[0]) }
        // Born with SIGHUP blocked: swinit-run may die before the guard's
        // first line runs, and the hangup that follows must not take the
        // guard with it.
        let spawned = Reexec.spawn(["swinit-run", marker], blocked: [SIGHUP]) { actions in
            posix_spawn_file_actions_adddup2(&actions, ends[0], guardDescriptor)
        }
        var settings = saved
        let size = MemoryLayout<termios>.size
        guard case .success = spawned,
              withUnsafeBytes(of: &settings, { write(ends[1], $0.baseAddress, size) }) == size else {
            close(ends[1])
            return nil
        }
        return ends[1]
    }

    /// Tells the guard the terminal is restored, and lets it go.
    static func release(_ pipe: Int32) {
        var byte: UInt8 = 1
        _ = write(pipe, &byte, 1)
        close(pipe)
    }

    /// The guard itself: reads the settings, waits for the byte or the end
    /// of file, and restores the terminal on fd 0 only in the second case.
    public static func main() -> Never {
        // When swinit-run leads the terminal's session, its death sends
        // SIGHUP to the foreground group, the guard included: outlive it.
        // (It is blocked from birth; ignoring it also drops one pending.)
        signal(SIGHUP, SIG_IGN)
        var settings = termios()
        let size = MemoryLayout<termios>.size
        let got = withUnsafeMutableBytes(of: &settings) { buffer in
            retryingOnInterrupt { read(guardDescriptor, buffer.baseAddress, size) }
        }
        guard got == size else { _exit(1) }
        var byte: UInt8 = 0
        if retryingOnInterrupt({ read(guardDescriptor, &byte, 1) }) == 0 {
            _ = retryingOnInterrupt { tcsetattr(0, TCSANOW, &settings) }
        }
        _exit(0)
    }
}
