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
        try Namespaces.pid.unshare()
        let pid = try spawnStage2(spec, errorPipe: writeEnd)
        close(writeEnd)
        writeEnd = -1
        return try relay(signals: signals, to: pid, errorPipe: readEnd, stopSignal: spec.stopSignal)
    }

    static func spawnStage2(_ spec: ContainerSpec, errorPipe: Int32) throws(RuntimeError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto fd 3 clears CLOEXEC there; stage 2 sets it again at once.
        posix_spawn_file_actions_adddup2(&actions, errorPipe, ErrorPipe.stage2Descriptor)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let arguments = ["swinit-run", ContainerSpec.stage2Marker] + spec.stage2Arguments
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, &envp)
        if result != 0 { throw RuntimeError("spawn stage 2", path: "/proc/self/exe", errno: result) }
        return pid
    }

    /// Forwards signals to `pid` and waits for it.
    ///
    /// A PID namespace's init only gets the signals it blocks or catches; the
    /// kernel drops the rest when they come from outside (pid_namespaces(7)).
    /// So signals that arrive while stage 2 builds the container, or before
    /// the freshly exec'd init has set up its signal handling, are held and
    /// sent once PID 1 receives them (`SignalRelay.Pending`).
    static func relay(signals: borrowing SignalRelay, to pid: pid_t, errorPipe: Int32, stopSignal: Int32? = nil)
        throws(RuntimeError)
        -> Int32
    {
        var report: [UInt8] = []
        var pipeOpen = true
        var pending = SignalRelay.Pending(pid: pid)
        while true {
            var entries = [pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: pipeOpen ? errorPipe : -1, events: Int16(POLLIN), revents: 0)]
            // With signals held after the exec, look again every millisecond.
            let timeout: Int32 = !pipeOpen && !pending.isEmpty ? 1 : -1
            if poll(&entries, 2, timeout) < 0 {
                if errno == EINTR { continue }
                let error = RuntimeError.syscall("poll")
                kill(pid, SIGKILL)
                _ = waitFor(pid)
                throw error
            }
            if pipeOpen && entries[1].revents != 0 {
                pipeOpen = readReport(errorPipe, into: &report)
            }
            while let signo = signals.next() {
                if signo == SIGCHLD {
                    if let status = waitFor(pid, blocking: false) {
                        while pipeOpen { pipeOpen = readReport(errorPipe, into: &report) }
                        if let error = ErrorPipe.decode(report) { throw error }
                        return status
                    }
                } else {
                    pending.add(signo == SIGTERM ? stopSignal ?? SIGTERM : signo)
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
