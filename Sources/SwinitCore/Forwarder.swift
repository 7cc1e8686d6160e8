// SPDX-License-Identifier: Apache-2.0
// Passes the signals swinit receives on to the child's process group (or the
// child alone), after rewriting them. Forwarding never ends swinit: a child
// that is gone (ESRCH) or that swinit may not signal (EPERM) is logged only.
import CSwinit

/// Decides where and whether a received signal is passed on (see kill(2)).
public struct Forwarder {
    /// The main child's pid, which is also its process group id.
    public let child: pid_t
    /// Send to the child's whole process group (default) or the child only (`-c`).
    public let forwardsToProcessGroup: Bool
    /// `-r FROM:TO` table, indexed by signal number; 0 drops the signal.
    public let rewrites: SignalRewrites

    /// swinit's own pid: a signal swinit raised on itself is not forwarded.
    public let ownPid: pid_t

    public init(child: pid_t, forwardsToProcessGroup: Bool, rewrites: SignalRewrites, ownPid: pid_t = getpid()) {
        self.ownPid = ownPid
        self.child = child
        self.forwardsToProcessGroup = forwardsToProcessGroup
        self.rewrites = rewrites
    }

    /// The pid argument for kill(2): `-pgid` for the group, else the pid.
    public var target: pid_t { forwardsToProcessGroup ? -child : child }

    /// The signal to send for `info` after the rules, or nil when it is not
    /// forwarded: SIGCHLD is swinit's own business; a fault signal the kernel
    /// raised is not (it cannot reach here anyway: the kernel forces those
    /// past the block and kills swinit, as it should); one that swinit caused
    /// itself (a SIGPIPE from writing a log line to a closed pipe, which the
    /// kernel sends as if swinit had called kill) is not the child's either;
    /// a rewrite to 0 drops it.
    public func outgoingSignal(for info: SignalInfo) -> Int32? {
        if info.signal == SIGCHLD { return nil }
        if info.wasSentByProcess && info.sender == ownPid { return nil }
        if Signal.isFault(info.signal) && !info.wasSentByProcess { return nil }
        let rewritten = rewrites.map(info.signal)
        return rewritten == 0 ? nil : rewritten
    }

    /// Forwards `info` to the target. Failures are logged at debug level.
    public func forward(_ info: SignalInfo) {
        // This is the loop's hot path: build no log line (a variadic array
        // is an allocation) unless debug logging is on.
        let logs = Log.isEnabled(.debug)
        guard let signal = outgoingSignal(for: info) else {
            if logs { Log.debug("not forwarding ", .signal(info.signal)) }
            return
        }
        if kill(target, signal) == 0 {
            if logs { Log.debug("forwarded ", .signal(signal), " to ", .int(Int(target))) }
        } else if logs {
            Log.debug("forwarding ", .signal(signal), " to ", .int(Int(target)), ": ", .errno(.current))
        }
    }
}

/// The `-r FROM:TO` table: which signal to send for which received one.
public struct SignalRewrites {
    /// Index = received signal; value = signal to send (0 = drop).
    private var table: [Int32]

    /// The identity table: every signal forwarded as itself.
    public init() {
        table = []
        table.reserveCapacity(Int(Signal.highest) + 1)
        for number in 0...Signal.highest { table.append(number) }
    }

    /// Forwards `from` as `to` from now on; `to` = 0 drops it.
    public mutating func rewrite(_ from: Int32, to: Int32) { table[Int(from)] = to }

    /// The signal to send for a received `signal` (0 = drop).
    public func map(_ signal: Int32) -> Int32 {
        signal >= 0 && signal <= Signal.highest ? table[Int(signal)] : signal
    }
}
