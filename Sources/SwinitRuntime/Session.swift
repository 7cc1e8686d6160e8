// SPDX-License-Identifier: Apache-2.0
// Stage 2's break with the caller's session: a new session (no controlling
// terminal, so TIOCSTI and /dev/tty cannot reach the caller's terminal) and a
// new session keyring (keys of the caller's keyrings are no longer possessed).
import CSwinit
import Glibc

enum Session {
    /// setsid(2): stage 2 becomes the leader of a new session and process
    /// group without a controlling terminal. A process in the container can
    /// then no longer push input into the caller's terminal with TIOCSTI
    /// (EPERM without CAP_SYS_ADMIN; bubblewrap's CVE-2017-5226) nor open
    /// /dev/tty (ENXIO), and the caller's Ctrl-C reaches swinit-run only,
    /// which forwards it to PID 1.
    static func start() throws(RuntimeError) {
        try check("setsid") { setsid() }
    }

    /// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) (keyctl(2), session-keyring(7)):
    /// a new anonymous session keyring, as crun and runc give each container.
    /// A kernel without keyrings (ENOSYS) has nothing to isolate.
    static func joinNewKeyring() throws(RuntimeError) {
        if swinit_run_join_new_session_keyring() < 0 && errno != ENOSYS {
            throw RuntimeError.syscall("join a new session keyring (keyctl)")
        }
    }
}
