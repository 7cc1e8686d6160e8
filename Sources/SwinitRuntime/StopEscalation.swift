// SPDX-License-Identifier: Apache-2.0
// `docker stop` sends the stop signal, waits its grace period (10 s by
// default, `--stop-timeout`), then SIGKILLs the container. A SIGTERM sent to
// swinit-run is that stop: it is forwarded as the image's StopSignal, and if
// the container is still there when the grace period is over, its PID 1 gets
// SIGKILL, and the kernel ends the whole PID namespace with it. Without this
// a command that ignores the signal, or a PID 1 stopped by SIGSTOP, would
// keep swinit-run waiting for good.
import Glibc

/// The grace period between the first SIGTERM and SIGKILL, for the relay loop.
struct StopEscalation {
    /// Seconds; -1 never escalates.
    let timeout: Int32
    /// When PID 1 gets SIGKILL (CLOCK_MONOTONIC, ns); nil before a stop or after the kill.
    private var deadline: UInt64?
    private var escalated = false

    init(timeout: Int32) { self.timeout = timeout }

    /// A SIGTERM arrived: the grace period starts, unless it already runs.
    mutating func stopRequested() {
        guard timeout >= 0, deadline == nil, !escalated else { return }
        deadline = SignalRelay.monotonicNanoseconds() + UInt64(timeout) * 1_000_000_000
    }

    /// poll(2)'s timeout in ms: `other` (-1: none) or what is left of the grace period, whichever is shorter.
    func pollTimeout(_ other: Int32) -> Int32 {
        guard let deadline else { return other }
        let now = SignalRelay.monotonicNanoseconds()
        let left = deadline > now ? Int32(clamping: (deadline - now + 999_999) / 1_000_000) : 0
        return other < 0 ? left : min(other, left)
    }

    /// SIGKILLs `pid` once the grace period is over, saying so on stderr.
    mutating func killIfDue(_ pid: pid_t) {
        guard let deadline, SignalRelay.monotonicNanoseconds() >= deadline else { return }
        let line = "swinit-run: the container did not stop within \(timeout) s of SIGTERM: sending SIGKILL\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        kill(pid, SIGKILL)
        self.deadline = nil
        escalated = true
    }
}
