// SPDX-License-Identifier: Apache-2.0
// swinit-run is the caller's job, and job control works on it as on any
// other, though its signals arrive through a signalfd (blocked).
//
// Ctrl-Z sends SIGTSTP to the foreground job: swinit-run forwards it to the
// container and then stops itself with it, so the shell sees the job stopped
// and gives its prompt back; `fg` or `bg` continue both.
//
// A background job that reads its terminal is stopped by the kernel with
// SIGTTIN until the shell brings it to the foreground (`fg`). swinit-run
// blocks SIGTTIN (its signals arrive through a signalfd), and for a blocked
// SIGTTIN the kernel fails the read with EIO instead, which looked like the
// end of the caller's input: `swinit-run -i … &` gave the container end of
// file as soon as anything was typed to the shell. So on that EIO swinit-run
// stops its process group with SIGTTIN, as the kernel would, and reads again
// once continued in the foreground.
import Glibc

enum JobControl {
    /// After a read of the terminal on fd 0 failed with `error`: while this
    /// is a background job, stops its process group with SIGTTIN (unblocked
    /// for the moment; tty_ioctl(4), credentials(7)) and returns whether it
    /// may read again, i.e. is now in the foreground. False leaves the error
    /// standing: not EIO, not in the background, or an orphaned process
    /// group, which the kernel does not stop.
    static func waitForTheForeground(after error: Int32) -> Bool {
        guard error == EIO, isBackground else { return false }
        raiseUnblocked(SIGTTIN, to: 0)  // stopped here until SIGCONT
        return !isBackground
    }

    /// Stops swinit-run with SIGTSTP, unblocked for the moment, as the
    /// default action of the Ctrl-Z it already forwarded would have; returns
    /// once continued (SIGCONT), or at once in an orphaned process group,
    /// which the kernel does not stop (signal(7)).
    static func suspend() {
        raiseUnblocked(SIGTSTP, to: getpid())
    }

    /// Sends `signo` to `pid` (0: our process group) with it unblocked here,
    /// so its default action, stopping, happens before kill(2) returns.
    private static func raiseUnblocked(_ signo: Int32, to pid: pid_t) {
        var set = sigset_t(), previous = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signo)
        sigprocmask(SIG_UNBLOCK, &set, &previous)
        kill(pid, signo)
        sigprocmask(SIG_SETMASK, &previous, nil)
    }

    /// Whether fd 0 is a terminal whose foreground process group is not ours.
    private static var isBackground: Bool {
        let foreground = tcgetpgrp(0)
        return foreground > 0 && foreground != getpgrp()
    }
}
