// SPDX-License-Identifier: Apache-2.0
// The init's only way of hearing about signals: every signal stays blocked
// and is read, one at a time, from a signalfd. No handler ever runs, so there
// is nothing async-signal-unsafe to get wrong, and a blocking read means zero
// wake-ups while idle.
import CSwinit

/// One signal read from a signalfd (see signalfd(2), struct signalfd_siginfo).
public struct SignalInfo {
    /// The signal number.
    public let signal: Int32
    /// `ssi_code`: SI_USER (0), SI_QUEUE (-1), SI_TKILL (-6) when a process
    /// sent it; > 0 when the kernel raised it (e.g. CLD_EXITED for SIGCHLD).
    public let code: Int32
    /// `ssi_pid`: who sent it, when a process did.
    public let sender: pid_t

    /// Whether a process sent it with kill(2), sigqueue(3) or tgkill(2),
    /// rather than the kernel raising it.
    public var wasSentByProcess: Bool {
        code == SI_USER || code == SI_QUEUE || code == SI_TKILL
    }
}

/// Owner of the signalfd that swinit reads every signal from.
public struct SignalFD: ~Copyable {
    /// The descriptor (CLOEXEC, blocking).
    public let fd: Int32

    /// Opens a CLOEXEC, blocking signalfd for `signals`. The signals must
    /// already be blocked, or they are delivered the ordinary way instead.
    ///
    /// - Throws: `SyscallError("signalfd")`. Follows signalfd(2).
    public init(for signals: SignalSet) throws(SyscallError) {
        let fd = swinit_signalfd(signals.mask, Int32(SFD_CLOEXEC))
        guard fd >= 0 else { throw SyscallError("signalfd") }
        self.fd = fd
    }

    /// Blocks until the next signal arrives and returns it. Never times out.
    ///
    /// - Throws: `SyscallError("read signalfd")` on a failed or short read
    ///   (EINTR is retried).
    public func next() throws(SyscallError) -> SignalInfo {
        var signal: UInt32 = 0
        var code: Int32 = 0
        var sender: UInt32 = 0
        let count = try retryingOnInterrupt("read signalfd") {
            swinit_read_signal(fd, &signal, &code, &sender)
        }
        guard count == MemoryLayout<signalfd_siginfo>.size else {
            throw SyscallError("read signalfd (short read)", Errno(EIO))
        }
        return SignalInfo(signal: Int32(signal), code: code, sender: pid_t(bitPattern: sender))
    }

    /// Waits up to `milliseconds` for a signal to be pending (see poll(2)).
    ///
    /// - Returns: true when one can be read without blocking.
    public func waitReadable(milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, milliseconds)
        return ready > 0
    }

    deinit { close(fd) }
}
