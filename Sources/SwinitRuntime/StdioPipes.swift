// SPDX-License-Identifier: Apache-2.0
// Without -t, the caller's terminal never reaches the container. A terminal
// descriptor is the terminal itself, opened read-write: a process holding
// it can read the caller's keystrokes, change its line discipline
// (TIOCSETD), settings or flow (tcsetattr, tcflow) for good, whatever
// session it is in. So where swinit-run's stdout or stderr (or stdin, with
// -i) is a terminal, the container gets a pipe instead and swinit-run
// copies, as `docker run` without -t does. Pipes and files pass straight
// through: they carry no such power, and copying would only cost.
//
// Two rules keep the copy honest. When stdout and stderr are the same
// terminal, they share one pipe, so lines reach the screen in the order the
// container wrote them. And once the container's PID 1 is reaped, only what
// the pipes hold then is copied: a container can keep a copy of its stdout
// alive after its death (sent over a unix socket and never received), so
// waiting for end of file would let it hold swinit-run for as long as it
// likes.
import CSwinit
import Glibc

/// The pipes standing in for the caller's terminal descriptors, and their
/// copying. Driven by the relay loop's poll(2), like `ConsoleRelay`.
final class StdioPipes {
    private struct Stream {
        /// 0, 1 or 2: the caller's descriptor copied to or from.
        let callerFD: Int32
        /// The container's numbers for the pipe: `[callerFD]`, or `[1, 2]`
        /// when stdout and stderr are one terminal.
        let containerFDs: [Int32]
        /// The pipe end the container gets (closed here once stage 2 has it).
        var containerEnd: Int32
        /// Our end: the read end for output, the non-blocking write end for input.
        var relayEnd: Int32
        /// Where output goes, never blocking the relay loop; nil for input.
        let output: CallerOutput?
        var isInput: Bool { callerFD == 0 }
    }

    private var streams: [Stream] = []
    /// Input read from the terminal that the pipe has not taken yet.
    private var input: [UInt8] = []
    /// Whether the caller's stdin is still read (false after its end of file).
    private var readingInput = true

    /// Makes a pipe for each of stdout and stderr that is a terminal (one for
    /// both when they are the same terminal), and for stdin when
    /// `interactive` and it is one.
    /// - Throws: `RuntimeError` when pipe2(2) fails.
    init(interactive: Bool) throws(RuntimeError) {
        let sharedOutput = Self.sameTerminal(1, 2)
        for fd in Int32(0)...2 where isatty(fd) != 0 && (fd != 0 || interactive) && !(fd == 2 && sharedOutput) {
            var ends: [Int32] = [-1, -1]
            if swinit_run_pipe2(&ends, O_CLOEXEC) != 0 {
                let error = RuntimeError.syscall("pipe2")
                finish()
                throw error
            }
            let (containerEnd, relayEnd) = fd == 0 ? (ends[0], ends[1]) : (ends[1], ends[0])
            if fd == 0 { _ = fcntl(relayEnd, F_SETFL, fcntl(relayEnd, F_GETFL) | O_NONBLOCK) }
            streams.append(Stream(callerFD: fd, containerFDs: fd == 1 && sharedOutput ? [1, 2] : [fd],
                                  containerEnd: containerEnd, relayEnd: relayEnd,
                                  output: fd == 0 ? nil : CallerOutput(fd)))
        }
    }

    /// Whether both descriptors are terminals, and the same one (fstat(2)
    /// st_rdev: the device number names the terminal).
    private static func sameTerminal(_ first: Int32, _ second: Int32) -> Bool {
        var a = stat(), b = stat()
        guard isatty(first) != 0, isatty(second) != 0, fstat(first, &a) == 0, fstat(second, &b) == 0 else { return false }
        return a.st_rdev == b.st_rdev
    }

    deinit { finish() }

    /// (pipe end, container descriptor) pairs for stage 2.
    var descriptorPairs: [(Int32, Int32)] {
        streams.flatMap { stream in stream.containerFDs.map { (stream.containerEnd, $0) } }
    }

    /// Whether the container's stdin is one of these pipes.
    var replacesStdin: Bool { streams.contains { $0.isInput } }

    /// Closes our copies of the container's ends once stage 2 has its own,
    /// so the output pipes read end of file when the container is gone.
    func closeContainerEnds() {
        for index in streams.indices where streams[index].containerEnd >= 0 {
            close(streams[index].containerEnd)
            streams[index].containerEnd = -1
        }
    }

    /// What to poll: one entry per stream (fd -1 when idle). An output
    /// stream waits for the caller's terminal (POLLOUT) while it holds
    /// output back, else for the container's next bytes.
    var pollEntries: [pollfd] {
        streams.map { stream in
            if let output = stream.output {
                return output.isBusy ? output.pollEntry : pollfd(fd: stream.relayEnd, events: Int16(POLLIN), revents: 0)
            }
            if !input.isEmpty { return pollfd(fd: stream.relayEnd, events: Int16(POLLOUT), revents: 0) }
            return pollfd(fd: readingInput && stream.relayEnd >= 0 ? 0 : -1, events: Int16(POLLIN), revents: 0)
        }
    }

    /// Acts on what poll(2) reported for `pollEntries`.
    func handle(_ entries: ArraySlice<pollfd>) {
        for (index, entry) in zip(streams.indices, entries) where entry.revents != 0 {
            if let output = streams[index].output {
                if entry.events == Int16(POLLOUT) { output.writeSome() } else { copyOutput(index) }
            } else if entry.fd == 0 {
                readInput(index)
            } else {
                writeInput(index)
            }
        }
    }

    /// Copies what the output pipes hold now and closes everything: the
    /// container is gone, so whatever it wrote is in the pipes, and nothing
    /// waits for an end of file a leaked writer could hold back.
    /// Idempotent; runs on every exit path.
    func finish() {
        for index in streams.indices {
            if !streams[index].isInput { copyWhatIsLeft(index) }
            streams[index].output?.drain()
            for fd in [streams[index].containerEnd, streams[index].relayEnd] where fd >= 0 { close(fd) }
            (streams[index].containerEnd, streams[index].relayEnd) = (-1, -1)
        }
    }

    /// Copies the bytes an output pipe holds (FIONREAD) and no more: a
    /// writer outside the dead container (a leaked copy) could otherwise
    /// keep it filling, or empty, forever. Non-blocking, so a racing reader
    /// of a leaked copy cannot make it wait either.
    private func copyWhatIsLeft(_ index: Int) {
        let fd = streams[index].relayEnd
        guard fd >= 0 else { return }
        var left: Int32 = 0
        guard swinit_run_bytes_readable(fd, &left) == 0 else { return }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        while left > 0 {
            let count = copyOutput(index, atMost: Int(left))
            if count <= 0 { break }
            left -= Int32(count)
        }
    }

    /// Copies one read of an output pipe (at most `atMost` bytes) to the
    /// caller's descriptor; returns the count, 0 at end of file (the pipe is
    /// then closed), -1 when nothing was readable.
    @discardableResult
    private func copyOutput(_ index: Int, atMost: Int = 16384) -> Int {
        let stream = streams[index]
        guard stream.relayEnd >= 0 else { return 0 }
        var buffer = [UInt8](repeating: 0, count: min(atMost, 16384))
        let count = retryingOnInterrupt { read(stream.relayEnd, &buffer, buffer.count) }
        if count == 0 || (count < 0 && errno != EAGAIN) {
            closeRelayEnd(index)
            return 0
        }
        guard count > 0 else { return -1 }
        stream.output?.send(buffer[0..<count])
        return count
    }

    private func readInput(_ index: Int) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = retryingOnInterrupt { read(0, &buffer, buffer.count) }
        if count > 0 {
            input += buffer[0..<count]
            writeInput(index)
        } else if count == 0 || (errno != EAGAIN && !JobControl.waitForTheForeground(after: errno)) {
            // End of the caller's input (Ctrl-D): the container reads end of file too.
            readingInput = false
            if input.isEmpty { closeRelayEnd(index) }
        }
    }

    private func writeInput(_ index: Int) {
        let fd = streams[index].relayEnd
        guard fd >= 0 else { input.removeAll(); return }
        let written = input.withUnsafeBytes { bytes in retryingOnInterrupt { write(fd, bytes.baseAddress, bytes.count) } }
        if written > 0 {
            input.removeFirst(written)
        } else if written < 0 && errno != EAGAIN {
            // Nobody reads the pipe any more: drop what would never be read.
            input.removeAll()
            readingInput = false
            closeRelayEnd(index)
        }
        if input.isEmpty && !readingInput { closeRelayEnd(index) }
    }

    private func closeRelayEnd(_ index: Int) {
        if streams[index].relayEnd >= 0 { close(streams[index].relayEnd) }
        streams[index].relayEnd = -1
    }
}
