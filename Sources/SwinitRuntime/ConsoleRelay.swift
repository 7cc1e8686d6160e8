// SPDX-License-Identifier: Apache-2.0
// `-t`, the host side: receives the container terminal's master from stage 2
// (ConsoleSocket), puts the caller's terminal in raw mode while it copies
// bytes both ways (as `docker run -it` does), passes window size changes on,
// and restores the caller's terminal on every way out of the run.
import CSwinit
import Glibc

/// The caller's terminal ↔ the container's pseudo-terminal. Driven by the
/// relay loop's poll(2); single-threaded like the rest of the host side.
final class ConsoleRelay {
    /// Our end of the console socketpair until the master arrives (then -1).
    private var socket: Int32
    /// The container terminal's master, non-blocking; -1 before it arrives.
    private var master: Int32 = -1
    /// Whether the master still reads (false after EIO: every slave is closed).
    private var masterOpen = false
    /// Copy our stdin to the container (`-i`); stops at its end of file.
    private var copyingInput: Bool
    /// Read from stdin, not yet taken by the master (it is non-blocking).
    private var input: [UInt8] = []
    /// The caller's terminal settings, read before the run (`-i` and a terminal on stdin).
    private var callerSettings: termios?
    /// The caller's terminal settings while we hold it in raw mode.
    private var savedTerminal: termios?
    /// Our end of the terminal guard's pipe while it watches (-1 otherwise).
    private var guardPipe: Int32 = -1
    /// The caller's stdout, written without ever blocking the relay loop.
    private let output = CallerOutput(1)

    /// Takes ownership of `socket`, the host end of the console socketpair.
    /// With `interactive` and a terminal on stdin, saves its settings and
    /// starts the `TerminalGuard` now: spawned after unshare(CLONE_NEWPID) it
    /// would land in the container's PID namespace and die with it.
    init(socket: Int32, interactive: Bool) {
        self.socket = socket
        copyingInput = interactive
        var settings = termios()
        if interactive && isatty(0) != 0 && tcgetattr(0, &settings) == 0 {
            callerSettings = settings
            guardPipe = TerminalGuard.spawn(restoring: settings) ?? -1
        }
    }

    deinit { finish() }

    /// The caller's window size (rows, columns): from stdin, else stdout
    /// (TIOCGWINSZ); (0, 0) when neither is a terminal.
    static func callerWindowSize() -> (rows: UInt16, columns: UInt16) {
        var rows: UInt16 = 0, columns: UInt16 = 0
        for fd in Int32(0)...1 where swinit_run_get_window_size(fd, &rows, &columns) == 0 { break }
        return (rows, columns)
    }

    /// What to poll, always four entries (fd -1 when idle): the socket,
    /// stdin, the master (not read while stdout holds output back), stdout.
    var pollEntries: [pollfd] {
        let waitingForMaster = socket >= 0
        let readStdin = !waitingForMaster && copyingInput && input.isEmpty
        let masterEvents = (output.isBusy ? 0 : Int16(POLLIN)) | (input.isEmpty ? 0 : Int16(POLLOUT))
        return [pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: readStdin ? 0 : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: masterOpen ? master : -1, events: masterEvents, revents: 0),
                output.pollEntry]
    }

    /// Acts on what poll(2) reported for `pollEntries`.
    /// - Throws: `RuntimeError` when stage 2 sent something that is not a terminal.
    func handle(_ entries: ArraySlice<pollfd>) throws(RuntimeError) {
        let start = entries.startIndex
        let (socketEvents, stdinEvents, masterEvents, stdoutEvents) = (entries[start].revents,
            entries[start + 1].revents, entries[start + 2].revents, entries[start + 3].revents)
        if socketEvents != 0 { try receiveMaster() }
        if stdinEvents != 0 { readInput() }
        if stdoutEvents != 0 { output.writeSome() }
        if masterEvents & Int16(POLLOUT) != 0 { writeInput() }
        if masterEvents & ~Int16(POLLOUT) != 0 { copyOutput() }
    }

    /// SIGWINCH: the caller's new window size onto the container's terminal
    /// (TIOCSWINSZ); the kernel then signals the container's foreground job.
    func resize() {
        guard master >= 0 else { return }
        let size = Self.callerWindowSize()
        if size.rows > 0 && size.columns > 0 { _ = swinit_run_set_window_size(master, size.rows, size.columns) }
    }

    /// Copies what the container still wrote, restores the caller's terminal
    /// and closes everything. Idempotent; runs on every exit path.
    func finish() {
        if masterOpen {
            while copyOutput() {}
        }
        output.drain()
        if var saved = savedTerminal {
            _ = retryingOnInterrupt { tcsetattr(0, TCSANOW, &saved) }
            savedTerminal = nil
        }
        if guardPipe >= 0 { TerminalGuard.release(guardPipe) }
        guardPipe = -1
        for fd in [socket, master] where fd >= 0 { close(fd) }
        (socket, master, masterOpen) = (-1, -1, false)
    }

    private func receiveMaster() throws(RuntimeError) {
        let fd = swinit_run_receive_fd(socket)
        close(socket)
        socket = -1
        // End of file: stage 2 failed before it got that far; the error pipe says why.
        if fd == 0 { return }
        if fd < 0 || isatty(fd) == 0 {
            if fd > 0 { close(fd) }
            throw RuntimeError("receive the container's terminal", errno: fd < 0 ? errno : ENOTTY)
        }
        master = fd
        masterOpen = true
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        enterRawMode()
        resize()  // the size may have changed while stage 2 set up
    }

    /// Raw mode on the caller's terminal (cfmakeraw(3), as moby/term's
    /// MakeRaw): keys, Ctrl-C included, go to the container's terminal as
    /// bytes, whose own line discipline turns them into signals. Only with
    /// `-i` and only when stdin is a terminal; a failure leaves it cooked.
    /// The `TerminalGuard` started in `init` restores it if we die by SIGKILL.
    private func enterRawMode() {
        guard let saved = callerSettings else { return }
        var raw = saved
        cfmakeraw(&raw)
        if retryingOnInterrupt({ tcsetattr(0, TCSANOW, &raw) }) == 0 { savedTerminal = saved }
    }

    private func readInput() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = retryingOnInterrupt { read(0, &buffer, buffer.count) }
        if count <= 0 {
            if count == 0 || (errno != EAGAIN && !JobControl.waitForTheForeground(after: errno)) { copyingInput = false }
            return
        }
        input += buffer[0..<count]
        writeInput()
    }

    private func writeInput() {
        let written = input.withUnsafeBytes { bytes in
            retryingOnInterrupt { write(master, bytes.baseAddress, bytes.count) }
        }
        if written > 0 { input.removeFirst(written) }
        // The container is gone: drop what it will never read.
        else if written < 0 && errno != EAGAIN { input.removeAll(); copyingInput = false }
    }

    /// Copies one read of the master to stdout; false when nothing more
    /// comes now (EAGAIN) or ever (EIO: every slave fd is closed).
    @discardableResult
    private func copyOutput() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = retryingOnInterrupt { read(master, &buffer, buffer.count) }
        guard count > 0 else {
            if count == 0 || errno != EAGAIN { masterOpen = false }
            return false
        }
        output.send(buffer[0..<count])
        return true
    }
}
