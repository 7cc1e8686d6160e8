// SPDX-License-Identifier: Apache-2.0
// The host side of a run: state directory, new PID namespace, posix_spawn of
// stage 2, signal forwarding, wait, exit status, cleanup.
import CSwinit
import Glibc

/// Runs containers from the host side. Single-threaded by design: no
/// Foundation, no Dispatch, nothing but syscalls between parse and exit.
public enum Launcher {
    /// Runs `spec` to completion and returns the exit status swinit-run should
    /// end with: the container PID 1's code, or 128+N when signal N killed it.
    /// - Parameter name: the state directory's name.
    /// - Throws: `RuntimeError` for a failed step on either side (exit 125),
    ///   or an exec failure of the command under `--no-init` (126/127).
    public static func run(_ spec: ContainerSpec, name: String) throws(RuntimeError) -> Int32 {
        let signals = try SignalRelay()
        let state = try StateDirectory(name: name)
        var spec = spec
        spec.stateDirectory = state.path
        let result: Result<Int32, RuntimeError>
        do throws(RuntimeError) {
            result = .success(try spawnAndWait(spec, signals: signals))
        } catch {
            result = .failure(error)
        }
        state.remove()
        return try result.get()
    }

    /// unshare(CLONE_NEWPID), then posix_spawn(3) of `/proc/self/exe` as stage
    /// 2, which thereby is PID 1 of the new namespace; then relay and wait.
    static func spawnAndWait(_ spec: ContainerSpec, signals: borrowing SignalRelay) throws(RuntimeError) -> Int32 {
        var pipeEnds: [Int32] = [-1, -1]
        try check("pipe2") { swinit_run_pipe2(&pipeEnds, O_CLOEXEC) }
        let readEnd = pipeEnds[0]
        var writeEnd = pipeEnds[1]
        defer { close(readEnd) }
        // Our copy of the write end must be gone, or the pipe never reads EOF.
        defer { if writeEnd >= 0 { close(writeEnd) } }
        // -t: a console socketpair; stage 2 sends the terminal's master over it.
        var spec = spec
        var console: ConsoleRelay?
        var consoleEnds: [Int32] = [-1, -1]
        if spec.tty {
            try check("socketpair") { swinit_run_socketpair(&consoleEnds) }
            console = ConsoleRelay(socket: consoleEnds[0], interactive: spec.interactive)
            (spec.terminalRows, spec.terminalColumns) = ConsoleRelay.callerWindowSize()
        }
        defer { if consoleEnds[1] >= 0 { close(consoleEnds[1]) } }
        // Drains the container's output and restores the caller's terminal, however we leave.
        defer { console?.finish() }
        try Namespaces.pid.unshare()
        let pid = try spawnStage2(spec, errorPipe: writeEnd, consoleSocket: consoleEnds[1])
        close(writeEnd)
        writeEnd = -1
        close(consoleEnds[1])
        consoleEnds[1] = -1
        return try relay(signals: signals, to: pid, errorPipe: readEnd, console: console)
    }

    static func spawnStage2(_ spec: ContainerSpec, errorPipe: Int32, consoleSocket: Int32 = -1) throws(RuntimeError)
        -> pid_t
    {
        let spawned = Reexec.spawn(["swinit-run", ContainerSpec.stage2Marker] + spec.stage2Arguments) { actions in
            // dup2 onto fd 3 clears CLOEXEC there; stage 2 sets it again at once.
            posix_spawn_file_actions_adddup2(&actions, errorPipe, ErrorPipe.stage2Descriptor)
            if consoleSocket >= 0 { posix_spawn_file_actions_adddup2(&actions, consoleSocket, ConsoleSocket.stage2Descriptor) }
            // Without -i the container's stdin is /dev/null, as under `docker run`
            // (with -t, stage 2 replaces it with the terminal).
            if !spec.interactive || spec.tty { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        }
        switch spawned {
        case .success(let pid): return pid
        case .failure(var error):
            error.operation = "spawn stage 2"
            throw error
        }
    }

    /// Forwards signals to `pid` and waits for it.
    ///
    /// A PID namespace's init only gets the signals it blocks or catches; the
    /// kernel drops the rest when they come from outside (pid_namespaces(7)).
    /// So signals that arrive while stage 2 builds the container, or before
    /// the freshly exec'd init has set up its signal handling, are held and
    /// sent once PID 1 receives them (`SignalRelay.Pending`).
    static func relay(signals: borrowing SignalRelay, to pid: pid_t, errorPipe: Int32,
                      console: ConsoleRelay? = nil) throws(RuntimeError) -> Int32
    {
        var report: [UInt8] = []
        var pipeOpen = true
        var pending = SignalRelay.Pending(pid: pid)
        while true {
            var entries = [pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: pipeOpen ? errorPipe : -1, events: Int16(POLLIN), revents: 0)]
                + (console?.pollEntries ?? [])
            // With signals held after the exec, look again every millisecond.
            let timeout: Int32 = !pipeOpen && !pending.isEmpty ? 1 : -1
            if poll(&entries, nfds_t(entries.count), timeout) < 0 {
                if errno == EINTR { continue }
                let error = RuntimeError.syscall("poll")
                kill(pid, SIGKILL)
                _ = waitFor(pid)
                throw error
            }
            if pipeOpen && entries[1].revents != 0 {
                pipeOpen = readReport(errorPipe, into: &report)
            }
            do throws(RuntimeError) {
                try console?.handle(entries[2...])
            } catch {
                kill(pid, SIGKILL)
                _ = waitFor(pid)
                throw error
            }
            while let signo = signals.next() {
                if signo == SIGCHLD {
                    if let status = waitFor(pid, blocking: false) {
                        while pipeOpen { pipeOpen = readReport(errorPipe, into: &report) }
                        if let error = ErrorPipe.decode(report) { throw error }
                        return status
                    }
                } else if signo == SIGWINCH, let console {
                    console.resize()  // the kernel signals the container's foreground job
                } else {
                    pending.add(signo)
                }
            }
            // The pipe closes empty when PID 1 was exec'd; before that, hold everything.
            if !pipeOpen && report.isEmpty { pending.flush() }
        }
    }

    /// Appends what the pipe holds; returns false at end of file.
    static func readReport(_ fd: Int32, into report: inout [UInt8]) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = retryingOnInterrupt { read(fd, &buffer, buffer.count) }
        if count <= 0 { return false }
        report += buffer[0..<count]
        return true
    }

    /// waitpid(2) for `pid`; returns the shell-style status (code, or 128+N),
    /// or nil when it has not exited (non-blocking) .
    static func waitFor(_ pid: pid_t, blocking: Bool = true) -> Int32? {
        var status: Int32 = 0
        let result = retryingOnInterrupt { waitpid(pid, &status, blocking ? 0 : WNOHANG) }
        guard result == pid else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
