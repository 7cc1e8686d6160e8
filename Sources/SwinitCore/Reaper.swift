// SPDX-License-Identifier: Apache-2.0
// Reaps every child that has changed state, the main child and orphans alike,
// so no zombie is left behind however many SIGCHLDs the kernel coalesced.
import CSwinit

/// What one reaping pass found out about the main child.
public struct ReapResult {
    /// Set when the main child exited or was killed in this pass.
    public var mainChildExit: WaitStatus?
    /// Set to the stop signal when the main child was stopped in this pass.
    public var mainChildStop: Int32?
    /// How many processes were reaped (main child included).
    public var reaped = 0
    /// Whether waitpid said there is no child left (ECHILD).
    public var noChildrenLeft = false
}

/// Reaps zombies with waitpid(-1, WNOHANG) (see waitpid(2)).
public struct Reaper {
    /// The child swinit started; its exit decides swinit's own.
    public let mainChild: pid_t
    /// Also report stopped children (WUNTRACED), for job control when swinit
    /// is not PID 1.
    public let reportsStops: Bool
    /// Log each orphan reaped at warning level (`-w`), else at debug level.
    public let warnsOnReap: Bool

    public init(mainChild: pid_t, reportsStops: Bool, warnsOnReap: Bool) {
        self.mainChild = mainChild
        self.reportsStops = reportsStops
        self.warnsOnReap = warnsOnReap
    }

    /// Reaps until waitpid returns 0 (children left, none changed) or ECHILD
    /// (no children left). The main child's exit is noticed here, in the same
    /// loop, so a SIGCHLD coalesced with an orphan's can never be missed.
    /// Never throws: a failing waitpid is logged and ends the pass.
    public func reapZombies() -> ReapResult {
        var result = ReapResult()
        let options = WNOHANG | (reportsStops ? WUNTRACED : 0)
        while true {
            var raw: Int32 = 0
            let pid = waitpid(-1, &raw, options)
            if pid == 0 { return result }
            if pid < 0 {
                let errno = Errno.current
                if errno == .interrupted { continue }
                if errno == .noChildProcess {
                    result.noChildrenLeft = true
                } else {
                    Log.warning("waitpid: ", .errno(errno))
                }
                return result
            }
            let status = WaitStatus(raw: raw)
            if case .stopped(let signal) = status {
                if pid == mainChild { result.mainChildStop = signal }
                continue
            }
            result.reaped += 1
            if pid == mainChild {
                result.mainChildExit = status
                logMainChildExit(pid, status)
            } else {
                logOrphan(pid, status)
            }
        }
    }

    /// tini's info line for the main child's end: its exit code, or the
    /// signal that killed it (and the 128+N status that stands for it).
    private func logMainChildExit(_ pid: pid_t, _ status: WaitStatus) {
        guard Log.isEnabled(.info) else { return }
        switch status {
        case .exited(let code):
            Log.info("main child ", .int(Int(pid)), " exited with status ", .int(Int(code)))
        case .signaled(let signal), .stopped(let signal):
            Log.info("main child ", .int(Int(pid)), " killed by ", .signal(signal), " (status ", .int(Int(status.shellExitCode)), ")")
        }
    }

    private func logOrphan(_ pid: pid_t, _ status: WaitStatus) {
        let level: LogLevel = warnsOnReap ? .warning : .debug
        guard Log.isEnabled(level) else { return }
        switch status {
        case .exited(let code):
            Log.write(level, ["reaped orphan ", .int(Int(pid)), ": exited with ", .int(Int(code))])
        case .signaled(let signal), .stopped(let signal):
            Log.write(level, ["reaped orphan ", .int(Int(pid)), ": killed by ", .signal(signal)])
        }
    }
}
