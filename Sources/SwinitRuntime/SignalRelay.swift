// SPDX-License-Identifier: Apache-2.0
// The host side's signals: all of them blocked and read from a signalfd, so
// swinit-run stays single-threaded and can forward each to the container.
import CSwinit
import Glibc

/// Blocks forwardable signals and reads them from a signalfd(2).
struct SignalRelay: ~Copyable {
    /// Signals the kernel raises for a fault of our own; never blocked.
    static let synchronous: [Int32] = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS]
    /// Signals never forwarded: SIGCHLD is ours, SIGPIPE is about our own
    /// writes and would kill a program that never asked for it.
    static let neverForwarded: [Int32] = [SIGCHLD, SIGPIPE]

    /// The raw 64-bit mask of every blocked signal (bit N-1 = signal N).
    static var mask: UInt64 {
        var mask = UInt64.max
        for signo in synchronous + [SIGKILL, SIGSTOP] { mask &= ~(UInt64(1) << UInt64(signo - 1)) }
        return mask
    }

    let descriptor: Int32

    /// Ignores SIGPIPE, blocks the rest and opens the signalfd (CLOEXEC, non-blocking).
    init() throws(RuntimeError) {
        _ = swinit_run_ignore_sigpipe()
        try check("block signals (rt_sigprocmask)") { swinit_run_sigprocmask(SIG_BLOCK, Self.mask, nil) }
        descriptor = try check("signalfd") {
            swinit_run_signalfd(Self.mask, O_CLOEXEC | O_NONBLOCK)  // = SFD_CLOEXEC | SFD_NONBLOCK
        }
    }

    deinit { close(descriptor) }

    /// The next pending signal number, or nil when none is pending.
    func next() -> Int32? {
        let signo = swinit_run_read_signal(descriptor)
        return signo > 0 ? signo : nil
    }

    /// Sends `signo` to `pid` unless it is never forwarded. ESRCH (already gone) is fine.
    static func forward(_ signo: Int32, to pid: pid_t) {
        guard !neverForwarded.contains(signo) else { return }
        _ = kill(pid, signo)
    }
}
