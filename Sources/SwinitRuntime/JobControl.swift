// SPDX-License-Identifier: Apache-2.0
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
        var ttin = sigset_t(), previous = sigset_t()
        sigemptyset(&ttin)
        sigaddset(&ttin, SIGTTIN)
        sigprocmask(SIG_UNBLOCK, &ttin, &previous)
        kill(0, SIGTTIN)  // delivered before kill returns: stopped here until SIGCONT
        sigprocmask(SIG_SETMASK, &previous, nil)
        return !isBackground
    }

    /// Whether fd 0 is a terminal whose foreground process group is not ours.
    private static var isBackground: Bool {
        let foreground = tcgetpgrp(0)
        return foreground > 0 && foreground != getpgrp()
    }
}
