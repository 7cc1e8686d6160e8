// SPDX-License-Identifier: Apache-2.0
// Where swinit-run copies the container's output to the caller's terminal
// (StdioPipes, ConsoleRelay), a blocking write would stall the relay loop,
// and with it every signal swinit-run forwards, for as long as the terminal
// takes no output: after Ctrl-S, or on a slow link. So the copy writes to a
// non-blocking open file description of its own for the terminal (O_NONBLOCK
// on the caller's descriptor would change it for the caller's shell too),
// keeps what the terminal did not take, and the loop waits for POLLOUT while
// it reads no more from the container, whose writes then block as they would
// on the terminal itself.
import Glibc

/// One of the caller's descriptors (1 or 2) that container output is copied to.
final class CallerOutput {
    /// The caller's descriptor number, for messages and as a fallback.
    let callerFD: Int32
    /// A non-blocking open file description of the caller's terminal (or
    /// pipe), or `callerFD` itself when it is neither or cannot be reopened:
    /// writes to a file do not stall.
    private let writeFD: Int32
    /// What the terminal has not taken yet.
    private var pending: [UInt8] = []

    /// Reopens `fd` through /proc/self/fd with O_NONBLOCK | O_NOCTTY when it
    /// is a terminal or a pipe (open(2); a file is written through `fd`
    /// itself, so its offset and O_APPEND stay the caller's).
    init(_ fd: Int32) {
        callerFD = fd
        var status = stat()
        let kind = fstat(fd, &status) == 0 ? status.st_mode & S_IFMT : 0
        let reopen = isatty(fd) != 0 || kind == S_IFIFO
        let reopened = reopen ? open("/proc/self/fd/\(fd)", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1
        writeFD = reopened >= 0 ? reopened : fd
    }

    deinit {
        if writeFD != callerFD { close(writeFD) }
    }

    /// Whether output waits for the terminal: read no more from the container until `writeSome` empties it.
    var isBusy: Bool { !pending.isEmpty }

    /// What to poll while busy (POLLOUT), else an idle entry (fd -1).
    var pollEntry: pollfd {
        pollfd(fd: isBusy ? writeFD : -1, events: Int16(POLLOUT), revents: 0)
    }

    /// Writes `bytes`, or keeps what the terminal does not take now.
    func send(_ bytes: ArraySlice<UInt8>) {
        pending += bytes
        writeSome()
    }

    /// Writes what the terminal takes now. Gives up on a descriptor that is
    /// gone (EPIPE, EIO: SIGPIPE is ignored), dropping what was left for it.
    func writeSome() {
        while !pending.isEmpty {
            let written = pending.withUnsafeBytes { buffer in
                retryingOnInterrupt { write(writeFD, buffer.baseAddress, buffer.count) }
            }
            if written > 0 {
                pending.removeFirst(written)
            } else {
                if written < 0 && errno != EAGAIN { pending.removeAll() }
                return
            }
        }
    }

    /// Writes everything left, waiting for the terminal as long as it takes
    /// (poll(2)); for the end of a run, when there is nothing else to relay.
    func drain() {
        while isBusy {
            writeSome()
            guard isBusy else { return }
            var entry = pollEntry
            _ = retryingOnInterrupt { poll(&entry, 1, -1) }
        }
    }
}
