// SPDX-License-Identifier: Apache-2.0
// The init's loop: read a signal, reap or forward, until the main child
// ends; then tear down what is left and hand back its exit status.
// After the child exists nothing here may end swinit early: as PID 1, our
// death would kill the whole container (catatonit's "no longer allowed to
// bail" rule). Errors are logged and the loop goes on.
import CSwinit

/// Runs the loop for one main child (or none, in pause mode).
public struct Supervisor {
    /// Where received signals go.
    public let forwarder: Forwarder
    /// Reaps the main child and every orphan.
    public let reaper: Reaper
    /// swinit is PID 1 of its pid namespace.
    public let isPID1: Bool
    /// `-t`, in seconds.
    public let gracePeriodSeconds: Int
    /// `-e` codes.
    public let remappedExitCodes: ExitCodeSet
    /// Whether the child's group was made the foreground process group of
    /// the terminal on stdin (swinit was the foreground job).
    public let childHasTerminal: Bool

    public init(
        forwarder: Forwarder, reaper: Reaper, isPID1: Bool, gracePeriodSeconds: Int,
        remappedExitCodes: ExitCodeSet, childHasTerminal: Bool
    ) {
        self.forwarder = forwarder
        self.reaper = reaper
        self.isPID1 = isPID1
        self.gracePeriodSeconds = gracePeriodSeconds
        self.remappedExitCodes = remappedExitCodes
        self.childHasTerminal = childHasTerminal
    }

    /// Loops until the main child has ended and the rest is torn down.
    ///
    /// - Returns: swinit's exit status: the child's code, or 128+N for
    ///   signal N, 0 when `-e` remaps it.
    public func run(_ signals: borrowing SignalFD) -> Int32 {
        while true {
            guard let info = nextSignal(signals) else { continue }
            if info.signal == SIGCHLD {
                let result = reaper.reapZombies()
                if let stop = result.mainChildStop { followStop(of: stop) }
                if let status = result.mainChildExit {
                    tearDownRest(signals)
                    return exitCode(for: status)
                }
            } else {
                forwarder.forward(info)
                if info.signal == SIGCONT { giveTerminalBack() }
            }
        }
    }

    /// The exit status for the main child's `status`, after `-e`.
    public func exitCode(for status: WaitStatus) -> Int32 {
        let code = status.shellExitCode
        return remappedExitCodes.contains(code) ? 0 : code
    }

    // MARK: - Job control

    /// The main child stopped. When swinit is not PID 1, stop too, so the
    /// shell that started us sees its job stopped (Ctrl-Z); its `fg` sends us
    /// SIGCONT, which we forward. As PID 1 we never stop: the container
    /// stays up and a SIGCONT sent to it resumes the child.
    func followStop(of signal: Int32) {
        guard !isPID1 && Signal.isJobControlStop(signal) else { return }
        Log.debug("main child stopped by ", .signal(signal), "; stopping too")
        kill(getpid(), SIGSTOP)
    }

    /// After SIGCONT the shell has given the terminal to our group (`fg`);
    /// pass it on to the child's group, or its first read stops it again.
    /// Every signal is blocked, so tcsetpgrp does not raise SIGTTOU on us.
    func giveTerminalBack() {
        // Only when the shell handed the terminal to our group (`fg`); a
        // SIGCONT from `bg` leaves the terminal with the shell.
        guard childHasTerminal, swinit_owns_foreground() == 1 else { return }
        if tcsetpgrp(0, forwarder.child) != 0 {
            Log.debug("tcsetpgrp: ", .errno(.current))
        }
    }

    // MARK: - Teardown

    /// `-t`: SIGTERM the processes left in the child's group (as PID 1, all
    /// processes of the namespace), wait up to the grace period while
    /// reaping, then SIGKILL and reap the rest. With no grace period, send
    /// the SIGTERM and return at once.
    func tearDownRest(_ signals: borrowing SignalFD) {
        let target: pid_t = isPID1 ? -1 : -forwarder.child
        guard kill(target, SIGTERM) == 0 else { return }  // ESRCH: nobody left
        guard gracePeriodSeconds > 0 else { return }
        Log.debug("waiting up to ", .int(gracePeriodSeconds), " s for the rest to exit")
        let exited = waitUntilGone(target, milliseconds: gracePeriodSeconds * 1000, signals)
        if exited { return }
        Log.info("grace period over: sending SIGKILL to what is left")
        kill(target, SIGKILL)
        _ = waitUntilGone(target, milliseconds: 2000, signals)
    }

    /// Reaps and waits until no process matches `target`, for at most
    /// `milliseconds`. Other signals that arrive meanwhile go to the target.
    func waitUntilGone(_ target: pid_t, milliseconds: Int, _ signals: borrowing SignalFD) -> Bool {
        let deadline = Clock.monotonicMilliseconds() + milliseconds
        while true {
            _ = reaper.reapZombies()
            if kill(target, 0) != 0 && Errno.current == .noSuchProcess { return true }
            let remaining = deadline - Clock.monotonicMilliseconds()
            if remaining <= 0 { return false }
            if signals.waitReadable(milliseconds: Int32(min(remaining, 60_000))),
               let info = nextSignal(signals), info.signal != SIGCHLD,
               let signal = forwarder.outgoingSignal(for: info) {
                kill(target, signal)
            }
        }
    }

    // MARK: - Pause mode

    /// `-P`: no child; reap orphans until SIGTERM or SIGINT, then return 0.
    public static func pause(_ signals: borrowing SignalFD, reaper: Reaper) -> Int32 {
        while true {
            guard let info = nextSignal(signals) else { continue }
            switch info.signal {
            case SIGCHLD: _ = reaper.reapZombies()
            case SIGTERM, SIGINT:
                Log.info("pause mode: ", .signal(info.signal), " received, exiting")
                return 0
            default: Log.debug("pause mode: ignoring ", .signal(info.signal))
            }
        }
    }

    private func nextSignal(_ signals: borrowing SignalFD) -> SignalInfo? { Self.nextSignal(signals) }

    private static func nextSignal(_ signals: borrowing SignalFD) -> SignalInfo? {
        do {
            return try signals.next()
        } catch {
            Log.warning(.text(error.call), ": ", .errno(error.errno))
            return nil
        }
    }
}

/// CLOCK_MONOTONIC, in milliseconds (see clock_gettime(2)).
enum Clock {
    static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000
    }
}
