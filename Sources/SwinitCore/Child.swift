// SPDX-License-Identifier: Apache-2.0
// Starting the main child: the fork/exec itself is C (see spawn.c), so that
// no Swift runs between fork and exec; this file turns its outcome into
// swinit's terms.
import CSwinit

/// Why the main child could not be started.
public enum SpawnError: Error {
    /// fork(2) or pipe2(2) failed in swinit.
    case spawn(Errno)
    /// execvp(3) failed in the child (the child is already reaped).
    case exec(Errno)

    /// The exit code swinit reports for it: 126/127 for exec failures as a
    /// shell does (not found → 127, found but not executable → 126).
    public var exitCode: Int32 {
        switch self {
        case .spawn: return InitExitCode.setupFailed
        case .exec(let errno):
            return errno == .noSuchFile || errno == .notDirectory ? InitExitCode.notFound : InitExitCode.cannotExecute
        }
    }
}

/// The main child.
public enum Child {
    /// Starts `argv[0]` with `argv` in its own process group, with the
    /// terminal's foreground when `takesTerminal`, and the signal mask
    /// swinit inherited. See `swinit_spawn` for the child's steps.
    ///
    /// - Parameters:
    ///   - argv: NULL-terminated argument vector; argv[0] is searched in PATH.
    ///   - inheritedMask: the signal mask to restore in the child.
    ///   - sigchldWasIgnored: give the child back an inherited SIG_IGN on SIGCHLD.
    ///   - takesTerminal: make the child's group the terminal's foreground group.
    /// - Returns: the child's pid, which is also its process group id.
    /// - Throws: `SpawnError`.
    public static func spawn(
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
        inheritedMask: SignalSet,
        sigchldWasIgnored: Bool,
        takesTerminal: Bool
    ) throws(SpawnError) -> pid_t {
        var execErrno: Int32 = 0
        let pid = swinit_spawn(argv, inheritedMask.mask, sigchldWasIgnored ? 1 : 0, takesTerminal ? 1 : 0, &execErrno)
        if pid > 0 { return pid }
        if execErrno != 0 { throw .exec(Errno(execErrno)) }
        throw .spawn(.current)
    }
}
