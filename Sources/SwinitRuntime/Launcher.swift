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
        // Read once: /proc/self/mountinfo and /proc/self/cgroup, parsed.
        let cgroupLayout = CgroupLayout.current()
        let busy = ContainerCgroup.removeStale(stateRoot: StateDirectory.root, layout: cgroupLayout)
        let state = try StateDirectory(name: name, keeping: busy)
        let upperLock: UpperLock?
        do throws(RuntimeError) {
            upperLock = try spec.upper.map { (path) throws(RuntimeError) in try UpperLock(path) }
        } catch {
            state.remove()
            throw error
        }
        defer { upperLock?.release() }
        var spec = spec
        spec.stateDirectory = state.path
        let result: Result<Int32, RuntimeError>
        var cgroup: ContainerCgroup?
        do throws(RuntimeError) {
            cgroup = try ContainerCgroup(name: name, limits: spec.limits, layout: cgroupLayout)
            spec.cgroupNamespace = true
            let status = try spawnAndWait(spec, signals: signals, cgroup: cgroup)
            if let cgroup { try OutOfMemoryReport.check(status: status, cgroup: cgroup, limits: spec.limits) }
            result = .success(status)
        } catch {
            result = .failure(error)
        }
        cgroup?.remove()
        state.remove()
        return try result.get()
    }

    /// unshare(CLONE_NEWPID), then posix_spawn(3) of `/proc/self/exe` as stage
    /// 2, which thereby is PID 1 of the new namespace; then relay and wait.
    static func spawnAndWait(_ spec: ContainerSpec, signals: borrowing SignalRelay,
                             cgroup: ContainerCgroup? = nil) throws(RuntimeError) -> Int32 {
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
        // Without -t: pipes where the caller's stdio is a terminal (see StdioPipes).
        let pipes = spec.tty ? nil : try StdioPipes(interactive: spec.interactive)
        defer { pipes?.finish() }
        // The "joined" pipe: stage 2 reads its end until we have moved it into the cgroup.
        var joined: [Int32] = [-1, -1]
        if cgroup != nil { try check("pipe2") { swinit_run_pipe2(&joined, O_CLOEXEC) } }
        defer { for fd in joined where fd >= 0 { close(fd) } }
        try Namespaces.pid.unshare()
        var bornInV2 = false
        let descriptors = Stage2Descriptors(errorPipe: writeEnd, consoleSocket: consoleEnds[1], joinedPipe: joined[0],
                                            stdio: pipes?.descriptorPairs ?? [],
                                            stdinIsNull: (!spec.interactive || spec.tty) && pipes?.replacesStdin != true)
        let pid = try spawnStage2(spec, descriptors, cgroup: cgroup?.v2Directory, bornInCgroup: &bornInV2)
        close(writeEnd)
        writeEnd = -1
        close(consoleEnds[1])
        consoleEnds[1] = -1
        pipes?.closeContainerEnds()
        if let cgroup {
            do throws(RuntimeError) {
                try cgroup.add(pid, bornInV2: bornInV2)
            } catch {
                // Stage 2 may have failed first (then it is gone: ESRCH); its report wins.
                kill(pid, SIGKILL)
                _ = waitFor(pid)
                var report: [UInt8] = []
                while readReport(readEnd, into: &report) {}
                throw ErrorPipe.decode(report) ?? error
            }
            close(joined[1])
            joined[1] = -1
        }
        return try relay(signals: signals, to: pid, errorPipe: readEnd, console: console, pipes: pipes,
                         stopSignal: spec.stopSignal, stopTimeout: spec.stopTimeout)
    }

    /// The host descriptors stage 2 gets at its fixed numbers (-1: none).
    struct Stage2Descriptors {
        /// Becomes `ErrorPipe.stage2Descriptor`.
        var errorPipe: Int32
        /// `-t`: becomes `ConsoleSocket.stage2Descriptor`.
        var consoleSocket: Int32
        /// With a cgroup: becomes `ContainerCgroup.joinDescriptor`.
        var joinedPipe: Int32
        /// `StdioPipes`: (pipe end, 0/1/2) for the caller's terminal descriptors.
        var stdio: [(Int32, Int32)] = []
        /// Without -i the container's stdin is /dev/null, as under `docker run`
        /// (with -t, stage 2 replaces it with the terminal).
        var stdinIsNull: Bool

        /// (from, to) pairs, in the order they are applied.
        var pairs: [(Int32, Int32)] {
            var pairs = [(errorPipe, ErrorPipe.stage2Descriptor)]
            if consoleSocket >= 0 { pairs.append((consoleSocket, ConsoleSocket.stage2Descriptor)) }
            if joinedPipe >= 0 { pairs.append((joinedPipe, ContainerCgroup.joinDescriptor)) }
            return pairs + stdio
        }
    }

    /// Starts stage 2 straight into the cgroup2 directory `cgroup` when
    /// given (clone3 CLONE_INTO_CGROUP, see stage2_spawn.c; `bornInCgroup`
    /// tells whether that worked): as a fork while swinit-run is
    /// single-threaded (`Stage2Fork`), else as a re-exec of itself.
    static func spawnStage2(_ spec: ContainerSpec, _ descriptors: Stage2Descriptors, cgroup: String? = nil,
                            bornInCgroup: inout Bool) throws(RuntimeError) -> pid_t {
        if Stage2Fork.isUsable {
            return try Stage2Fork.start(spec, descriptors, cgroup: cgroup, bornInCgroup: &bornInCgroup)
        }
        let arguments = ["swinit-run", ContainerSpec.stage2Marker] + spec.stage2Arguments
        if let cgroup {
            let argv = arguments.map { strdup($0) } + [nil]
            defer { for pointer in argv { free(pointer) } }
            let envp: [UnsafeMutablePointer<CChar>?] = [nil]
            let directory = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            let null = descriptors.stdinIsNull ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1
            defer { if null >= 0 { close(null) } }
            if directory >= 0 && (null >= 0 || !descriptors.stdinIsNull) {
                defer { close(directory) }
                var map: [Int32] = descriptors.pairs.flatMap { [$0.0, $0.1] }
                if null >= 0 { map += [null, 0] }
                var execErrno: Int32 = 0
                let pid = swinit_run_spawn_into_cgroup(directory, "/proc/self/exe", argv, envp, map,
                                                       Int32(map.count / 2), &execErrno)
                if pid > 0 {
                    if execErrno != 0 {
                        _ = waitFor(pid)
                        throw RuntimeError("spawn stage 2", path: "/proc/self/exe", errno: execErrno)
                    }
                    bornInCgroup = true
                    return pid
                }
            } else if directory >= 0 {
                close(directory)
            }
            // Older kernels (no clone3, ENOSYS): posix_spawn, and the host moves it.
        }
        let spawned = Reexec.spawn(arguments) { actions in
            // dup2 onto a descriptor clears CLOEXEC there; stage 2 sets it again at once.
            for (from, to) in descriptors.pairs { posix_spawn_file_actions_adddup2(&actions, from, to) }
            if descriptors.stdinIsNull { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
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
                      console: ConsoleRelay? = nil, pipes: StdioPipes? = nil, stopSignal: Int32? = nil,
                      stopTimeout: Int32 = ContainerSpec.defaultStopTimeout)
        throws(RuntimeError) -> Int32
    {
        var report: [UInt8] = []
        var pipeOpen = true
        var pending = SignalRelay.Pending(pid: pid)
        var escalation = StopEscalation(timeout: stopTimeout)
        var suspending = false
        while true {
            let consoleEntries = console?.pollEntries ?? []
            let pipesStart = 2 + consoleEntries.count
            var entries = [pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: pipeOpen ? errorPipe : -1, events: Int16(POLLIN), revents: 0)]
                + consoleEntries + (pipes?.pollEntries ?? [])
            // With signals held after the exec, look again every millisecond.
            let timeout = escalation.pollTimeout(!pipeOpen && !pending.isEmpty ? 1 : -1)
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
            pipes?.handle(entries[pipesStart...])
            do throws(RuntimeError) {
                try console?.handle(entries[2..<pipesStart])
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
                    pending.add(signo == SIGTERM ? stopSignal ?? SIGTERM : signo)
                    if signo == SIGTERM { escalation.stopRequested() }
                    // A hangup must also reach a stopped job (Ctrl-Z, then the
                    // terminal closed): follow it with SIGCONT, as the kernel
                    // does for an orphaned stopped process group.
                    if signo == SIGHUP { pending.add(SIGCONT) }
                    if signo == SIGTSTP { suspending = true }
                }
            }
            // The pipe closes empty when PID 1 was exec'd; before that, hold everything.
            if !pipeOpen && report.isEmpty { pending.flush() }
            escalation.killIfDue(pid)
            // Ctrl-Z (SIGTSTP): once the container has it, swinit-run stops
            // too, so the caller's shell gets its prompt back; `fg` sends
            // SIGCONT, which resumes it and is forwarded like any signal.
            if suspending && pending.isEmpty {
                suspending = false
                JobControl.suspend()
            }
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
