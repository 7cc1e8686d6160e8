// SPDX-License-Identifier: Apache-2.0
// `-t`, the container side: the --console-socket idea of runc and crun. Stage
// 2 opens a pseudo-terminal in the container's own devpts (after pivot_root,
// so /dev/ptmx is the container's), makes the slave PID 1's controlling
// terminal and stdio, and sends the master to the host over a socketpair.
import CSwinit
import Glibc

enum ConsoleSocket {
    /// Stage 2's end of the socketpair, fixed by posix_spawn's dup2 (after
    /// the error pipe on 3); closed with every other fd above 3 before the exec.
    static let stage2Descriptor: Int32 = 4

    /// In a session leader without a controlling terminal (after
    /// `Session.start`): opens a pty from /dev/ptmx, sets its window size,
    /// gives the slave to `uid` (as runc does, so the user can reopen its
    /// tty), makes it the controlling terminal (TIOCSCTTY) and fds 0–2, and
    /// sends the master over `stage2Descriptor` (SCM_RIGHTS).
    static func attach(rows: UInt16, columns: UInt16, uid: UInt32) throws(RuntimeError) {
        var master: Int32 = -1, slave: Int32 = -1
        try check("open pseudo-terminal", "/dev/ptmx") { swinit_run_open_pty("/dev/ptmx", &master, &slave) }
        defer { close(master); close(slave) }
        if rows > 0 && columns > 0 {
            try check("set window size (TIOCSWINSZ)") { swinit_run_set_window_size(slave, rows, columns) }
        }
        try check("chown terminal", String(uid)) { fchown(slave, uid_t(uid), gid_t.max) }
        try check("set controlling terminal (TIOCSCTTY)") { swinit_run_set_controlling_terminal(slave) }
        for fd in Int32(0)...2 { try check("dup2 terminal to", String(fd)) { dup2(slave, fd) } }
        try check("send terminal to swinit-run (SCM_RIGHTS)") { swinit_run_send_fd(stage2Descriptor, master) }
        close(stage2Descriptor)
    }
}
