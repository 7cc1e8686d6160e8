// SPDX-License-Identifier: Apache-2.0
// The host side's signals: all of them blocked and read from a signalfd, so
// swinit-run stays single-threaded and can forward each to the container.
import CSwinit
import Glibc

/// Blocks forwardable signals and reads them from a signalfd(2).
struct SignalRelay: ~Copyable {
    /// Signals the kernel raises for a fault of our own; never blocked, so
    /// the Swift runtime's crash handler reports a real fault. SIGSYS is not
    /// among them: that handler does not catch it, so a SIGSYS a user sends
    /// would kill swinit-run; blocked, it is forwarded like any other (a real
    /// seccomp SIGSYS is forced past the block by the kernel anyway).
    static let synchronous: [Int32] = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP]
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

    /// Signals waiting until the container's PID 1 can receive them.
    struct Pending {
        let pid: pid_t
        private var signals: [Int32] = []
        /// When the first flush found PID 1 not ready (CLOCK_MONOTONIC, ns).
        private var waitingSince: UInt64?
        /// After this long the signals go anyway; a PID 1 that neither blocks
        /// nor catches them (`--no-init`) would never be ready.
        static let patienceNanoseconds: UInt64 = 200_000_000

        init(pid: pid_t) { self.pid = pid }

        var isEmpty: Bool { signals.isEmpty }

        mutating func add(_ signo: Int32) {
            guard !SignalRelay.neverForwarded.contains(signo) else { return }
            signals.append(signo)
        }

        /// Sends the signals PID 1 now blocks or catches, in arrival order;
        /// keeps the rest until patience runs out.
        mutating func flush() {
            guard !signals.isEmpty else { return }
            let receiving = SignalRelay.receivedSignals(of: pid)
            let now = monotonicNanoseconds()
            if waitingSince == nil { waitingSince = now }
            let impatient = now - waitingSince! > Self.patienceNanoseconds
            var kept: [Int32] = []
            for signo in signals {
                if impatient || receiving & (UInt64(1) << UInt64(signo - 1)) != 0 {
                    SignalRelay.forward(signo, to: pid)
                } else {
                    kept.append(signo)
                }
            }
            signals = kept
            if signals.isEmpty { waitingSince = nil }
        }
    }

    /// The signals `pid` blocks or catches (SigBlk | SigCgt in /proc/PID/status,
    /// see proc(5)) as a 64-bit mask; 0 when it cannot be read.
    static func receivedSignals(of pid: pid_t) -> UInt64 {
        let fd = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return 0 }
        var mask: UInt64 = 0
        for line in buffer[0..<count].split(separator: UInt8(ascii: "\n")) {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("SigBlk:") || text.hasPrefix("SigCgt:") {
                let hex = text.dropFirst(7).trimmingPrefix(while: { $0 == "\t" || $0 == " " })
                mask |= UInt64(hex, radix: 16) ?? 0
            }
        }
        return mask
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
