// SPDX-License-Identifier: Apache-2.0
// What the container can no longer reach of its caller (issue 9): the
// caller's terminal (TIOCSTI), its keyrings, signals left ignored, an
// inheritable capability set, the state directories; and `-t`/`-i` as in
// `docker run`. Each escape is performed by the static probe inside a busybox
// container; terminals are the probe's `pty` runner, owned by the test.
import Foundation
import Testing

/// The static probe's directory mounted read-only at /probe in the container.
var probeVolume: [String] { ["-v", Harness.shared.packageRoot + "/.build/static:/probe:ro"] }
let probe = "/probe/swinit-probe"

/// swinit-run on a pseudo-terminal of the test's own (`swinit-probe pty`):
/// swinit-run's stdin, stdout and stderr are the slave, which is its
/// controlling terminal, as in a shell; the test types through `type`.
final class TerminalRun {
    let process = Process()
    let input = Pipe()
    let outputPath: String

    convenience init(_ arguments: [String], rows: Int = 0, columns: Int = 0) throws {
        let harness = Harness.shared
        try self.init(command: [harness.swinitRun, "--init", harness.swinit] + arguments, rows: rows, columns: columns)
    }

    /// Any `command` on the terminal (a shell that runs swinit-run, say).
    init(command: [String], rows: Int = 0, columns: Int = 0) throws {
        let harness = Harness.shared
        outputPath = harness.temporaryDirectory("pty") + "/output"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: harness.packageRoot + "/.build/static/swinit-probe")
        let size = rows > 0 ? ["-s", String(rows), String(columns)] : []
        process.arguments = ["pty"] + size + command
        process.standardInput = input
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        try process.run()
    }

    /// Everything the terminal showed, carriage returns removed.
    var output: String {
        ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "").replacingOccurrences(of: "\r", with: "")
    }

    /// swinit-run's pid (the runner's "pty child PID" line).
    var swinitRun: pid_t? {
        output.split(separator: "\n").first { $0.hasPrefix("pty child ") }.flatMap { pid_t($0.dropFirst(10)) }
    }

    /// The runner's last line when swinit-run left the terminal cooked.
    static let restored = "pty exit modes icanon 1 isig 1 echo 1\n"

    /// Types `text` into the terminal; lost (EPIPE, not SIGPIPE) when the runner is gone.
    func type(_ text: String) {
        signal(SIGPIPE, SIG_IGN)
        _ = text.withCString { write(input.fileHandleForWriting.fileDescriptor, $0, strlen($0)) }
    }

    func waitForOutput(_ text: String, timeout: Double = 10) -> Bool {
        waitFor(text, in: { output }, while: process, timeout: timeout)
    }

    /// The exit status (SIGKILLs the runner after `timeout` seconds: -1).
    func finish(timeout: Double = 20) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            if let pid = swinitRun { kill(pid, SIGKILL) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }
}

/// A listening unix stream socket that never accepts: connections queue on
/// it, and descriptors sent over them stay in flight until it is closed.
final class UnixListener {
    private var fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 8) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// The local-mode flags of the terminal open at `fd` (tcgetattr(3)); nil if it is none.
func localModes(_ fd: Int32) -> tcflag_t? {
    var settings = termios()
    return tcgetattr(fd, &settings) == 0 ? settings.c_lflag : nil
}

@Suite(.enabled(if: isRoot, "needs root: namespaces and mounts"), .timeLimit(.minutes(1)))
struct SessionTests {
    /// bubblewrap's CVE-2017-5226: without a new session the container could
    /// type a command into the caller's terminal for the caller's shell.
    @Test(arguments: [([String](), false), ([], true), (["-u", "1000"], false), (["-u", "1000"], true)])
    func typingIntoTheCallersTerminalIsRefused(user: [String], interactive: Bool) throws {
        let marker = "touch /tmp/pwned-\(UUID().uuidString.prefix(8))"
        let terminal = try TerminalRun((interactive ? ["-i"] : []) + user + rootfs + probeVolume
            + ["--", probe, "tiocsti", marker + "\n"])
        #expect(terminal.finish() == 0, "\(terminal.output)")
        let output = terminal.output
        #expect(output.contains("tiocsti done"), "\(output)")
        #expect(!output.contains("injected"), "\(output)")
        // What TIOCSTI pushes is echoed by the terminal: nothing arrived.
        #expect(!output.contains(marker), "\(output)")
        // stdin is /dev/null, or with -i a pipe swinit-run copies the terminal into.
        #expect(output.contains("fd 0: not a terminal\nfd 1: not a terminal\nfd 2: not a terminal\n/dev/tty: ENXIO\n"),
                "\(output)")
    }

    /// A terminal descriptor is the terminal itself, read-write: holding the
    /// caller's, a container could read the keys typed meanwhile and change
    /// the terminal for good (line discipline, settings). Without -t it gets
    /// pipes, and swinit-run copies its output to the terminal.
    @Test func theCallersTerminalStaysOutside() throws {
        let terminal = try TerminalRun(rootfs + ["--", "sh", "-c", """
            echo ready; sleep 0.5
            line=$(head -n 1 <&1 2>/dev/null) && echo "stole:$line" || echo no-read
            stty -echo <&2 2>/dev/null && echo stty-changed || echo stty-refused
            echo to-stderr >&2
            """])
        #expect(terminal.waitForOutput("ready"))
        terminal.type("secret\n")
        #expect(terminal.finish() == 0, "\(terminal.output)")
        let output = terminal.output
        #expect(output.contains("no-read\nstty-refused\nto-stderr\n"), "\(output)")
        #expect(!output.contains("stole:"), "\(output)")
        #expect(output.hasSuffix(TerminalRun.restored), "\(output)")
    }

    /// stdout and stderr on one terminal share one pipe, so what the
    /// container wrote reaches the screen in the order it wrote it.
    @Test func stdoutAndStderrOnOneTerminalKeepTheirOrder() throws {
        let terminal = try TerminalRun(rootfs + probeVolume + ["--", "sh", "-c",
            "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done"])
        #expect(terminal.finish() == 0, "\(terminal.output)")
        let interleaved = (1...5).map { "out\($0)\nerr\($0)\n" }.joined()
        #expect(terminal.output.contains(interleaved), "\(terminal.output)")
    }

    /// A terminal that takes no output (Ctrl-S, or a slow link) stalls the
    /// copy, never the relay: a SIGTERM still reaches the container, which
    /// ends while the terminal is paused; Ctrl-Q lets the rest out. Through
    /// the stdio pipes and through `-t`'s terminal.
    @Test(arguments: [[String](), ["-t"]])
    func signalsReachTheContainerWhileTheTerminalIsPaused(tty: [String]) throws {
        let terminal = try TerminalRun(tty + rootfs + ["--", "sh", "-c",
            "echo ready; while :; do echo line; done"])
        #expect(terminal.waitForOutput("ready"))
        terminal.type("\u{13}")  // Ctrl-S: the terminal takes no more output
        usleep(300_000)
        let caller = try #require(terminal.swinitRun)
        kill(caller, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while !descendants(of: caller).isEmpty && Date() < deadline { usleep(20_000) }
        #expect(descendants(of: caller).isEmpty, "the container still runs while the terminal is paused")
        terminal.type("\u{11}")  // Ctrl-Q
        #expect(terminal.finish() == 128 + SIGTERM, "\(terminal.output.suffix(300))")
        #expect(terminal.output.hasSuffix(TerminalRun.restored), "\(terminal.output.suffix(300))")
    }

    /// A container can keep a copy of its stdout open after its death: sent
    /// over a unix socket and never received, it stays in flight. swinit-run
    /// copies what the pipe holds when PID 1 is reaped and returns; it used
    /// to wait for an end of file the socket's peer (here the test, which
    /// never reads) could hold back for as long as it liked.
    @Test func stdoutLeftInFlightDoesNotHoldTheRun() throws {
        let directory = Harness.shared.temporaryDirectory("sock")
        let listener = try UnixListener(path: directory + "/s")
        defer { listener.close() }
        let started = Date()
        let terminal = try TerminalRun(rootfs + probeVolume + ["-v", directory + ":/s", "--", "sh", "-c",
            "echo before; \(probe) send-stdio /s/s; echo after"])
        #expect(terminal.finish(timeout: 10) == 0, "\(terminal.output)")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(terminal.output.contains("before\nsend stdout and stderr: ok\nafter\n"), "\(terminal.output)")
        #expect(terminal.output.hasSuffix(TerminalRun.restored), "\(terminal.output)")
    }

    /// -i without -t from a terminal: the container reads a pipe that
    /// swinit-run fills from the terminal, as under `docker run -i`.
    @Test func interactiveWithoutATerminalReadsThroughAPipe() throws {
        let terminal = try TerminalRun(["-i"] + rootfs + ["--", "sh", "-c",
            "[ -t 0 ] && echo tty0 || echo pipe0; read -r line; echo got:$line"])
        #expect(terminal.waitForOutput("pipe0"))
        terminal.type("hello\n")
        #expect(terminal.finish() == 0, "\(terminal.output)")
        #expect(terminal.output.contains("got:hello\n"), "\(terminal.output)")
    }

    @Test(arguments: [false, true])
    func stdinIsDevNullUnlessInteractive(interactive: Bool) throws {
        let command = [Harness.shared.swinitRun, "--init", Harness.shared.swinit] + (interactive ? ["-i"] : [])
            + rootfs + ["--", "sh", "-c", "cat; readlink /proc/self/fd/0"]
        let result = shell(["sh", "-c", "echo typed | \"$@\"", "sh"] + command)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix(interactive ? "typed\npipe:" : "/dev/null"), "\(result.stdout)")
    }

    /// A key the caller (root) added to its session keyring and to root's
    /// user keyring is not readable inside: the container has a session
    /// keyring of its own, from which neither is possessed.
    @Test(arguments: [[String](), ["-u", "1000"]])
    func callersKeysCannotBeReadInside(user: [String]) throws {
        let tag = "swinit-test-\(getpid())-\(UUID().uuidString.prefix(6))"
        // The default seccomp profile denies keyctl outright; unconfined, this
        // proves the session keyring alone.
        let command = [Harness.shared.swinitRun, "--init", Harness.shared.swinit, "--security-opt", "seccomp=unconfined"]
            + user + rootfs + probeVolume + ["--", probe, "keyctl-read"]
        let result = shell(["keyctl", "session", "-", "sh", "-c", """
            session=$(keyctl show @s | sed -n '2s/^ *\\([0-9]*\\).*/\\1/p')
            s=$(keyctl add user \(tag)-s payload-s @s) && u=$(keyctl add user \(tag)-u payload-u @u) || exit 99
            echo "host session keyring: $session"
            "$@" "$s" "$u"; status=$?
            keyctl unlink "$u" @u >/dev/null; exit $status
            """, "sh"] + command)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(result.stdout) \(result.stderr)")
        #expect(!result.stdout.contains("payload"), "\(result.stdout)")
        #expect(lines.suffix(2).allSatisfy { $0.hasSuffix(": EACCES") }, "\(result.stdout)")
        let host = lines.first?.split(separator: " ").last, inside = lines.dropFirst().first?.split(separator: " ").last
        #expect(host != nil && inside != nil && host != inside, "\(result.stdout)")
    }

    /// glibc's posix_spawn leaves signals 32 and 33 ignored in stage 2 and
    /// libc's sigaction cannot reset them; the command starts clean anyway.
    @Test(arguments: [false, true])
    func commandStartsWithNoSignalBlockedOrIgnored(noInit: Bool) throws {
        let result = try run((noInit ? ["--no-init"] : []) + rootfs + probeVolume + ["--", probe, "sigmask"])
        #expect(result.stdout == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n", "\(result.stderr)")
    }

    /// -t without a terminal on the caller's side still gives the container
    /// its own terminal from its own devpts instance.
    @Test func ttyIsATerminalOfTheContainersOwnDevpts() throws {
        let result = try run(["-t"] + rootfs + ["--", "sh", "-c", "tty; ls -1 /dev/pts; test -t 1 && test -t 2 && echo stdio"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.replacingOccurrences(of: "\r", with: "") == "/dev/pts/0\n0\nptmx\nstdio\n")
    }

    /// Ctrl-C is a byte in raw mode; the container's terminal turns it into
    /// SIGINT for the command in its foreground: 130, as `docker run -it --init`.
    @Test func ctrlCInTheTerminalEndsTheCommandWith130() throws {
        let terminal = try TerminalRun(["-it"] + rootfs + ["--", "sh", "-c", "echo ready; sleep 30"])
        #expect(terminal.waitForOutput("ready"))
        let caller = try #require(terminal.swinitRun)
        let fd = open("/proc/\(caller)/fd/0", O_RDWR | O_NOCTTY)
        defer { close(fd) }
        // Raw while the container runs: no canonical mode, no signals, no echo.
        #expect(localModes(fd).map { $0 & tcflag_t(ICANON | ISIG | ECHO) } == 0)
        terminal.type("\u{3}")
        #expect(terminal.finish() == 130, "\(terminal.output)")
        #expect(terminal.output.hasSuffix(TerminalRun.restored), "\(terminal.output)")
    }

    /// docker run -t sets TERM=xterm unless the image or -e gives one.
    @Test func aTerminalComesWithTERM() throws {
        let plain = try TerminalRun(["-t"] + rootfs + ["--", "sh", "-c", "echo term=$TERM."])
        #expect(plain.finish() == 0)
        #expect(plain.output.contains("term=xterm."), "\(plain.output)")
        let chosen = try TerminalRun(["-t", "-e", "TERM=vt100"] + rootfs + ["--", "sh", "-c", "echo term=$TERM."])
        #expect(chosen.finish() == 0)
        #expect(chosen.output.contains("term=vt100."), "\(chosen.output)")
    }

    @Test func windowSizeReachesTheContainerAndFollowsChanges() throws {
        let terminal = try TerminalRun(["-it"] + rootfs + ["--", "sh", "-c",
            "stty size; trap 'stty size' WINCH; echo ready; while :; do sleep 0.05; done"], rows: 40, columns: 100)
        #expect(terminal.waitForOutput("ready"))
        #expect(terminal.output.contains("40 100\n"), "\(terminal.output)")
        let caller = try #require(terminal.swinitRun)
        // Resizing the caller's terminal sends SIGWINCH to swinit-run, its foreground job.
        let fd = open("/proc/\(caller)/fd/0", O_RDWR | O_NOCTTY)
        defer { close(fd) }
        var size = winsize(ws_row: 50, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0)
        #expect(ioctl(fd, UInt(TIOCSWINSZ), &size) == 0)
        #expect(terminal.waitForOutput("50 120\n"), "\(terminal.output)")
        terminal.type("\u{3}")
        #expect(terminal.finish() == 130, "\(terminal.output)")
    }

    /// Job control inside the container's terminal, by an interactive shell:
    /// Ctrl-Z stops the job, `fg` resumes it, Ctrl-C ends it.
    @Test func ctrlZAndFgWorkInAnInteractiveShell() throws {
        let terminal = try TerminalRun(["-it"] + rootfs + ["--", "sh"])
        #expect(terminal.waitForOutput("# "))
        terminal.type("sleep 30\r")
        usleep(300_000)
        terminal.type("\u{1a}")
        #expect(terminal.waitForOutput("Stopped"), "\(terminal.output)")
        terminal.type("fg\r")
        #expect(terminal.waitForOutput("sleep 30\n"), "\(terminal.output)")
        usleep(200_000)
        terminal.type("\u{3}")
        usleep(200_000)
        terminal.type("exit 3\r")
        #expect(terminal.finish() == 3, "\(terminal.output)")
    }

    /// `swinit-run -i … &` from an interactive shell: a background job that
    /// reads the terminal stops (SIGTTIN) until `fg`, as any reader does,
    /// and the container then reads what is typed. It used to read end of
    /// file as soon as anything was typed to the shell.
    @Test func aBackgroundJobReadingTheTerminalWaitsForFg() throws {
        let harness = Harness.shared
        let run = [harness.swinitRun, "--init", harness.swinit, "-i"] + rootfs
            + ["--", "sh", "-c", "'read -r line; echo \"got<$line>\"'"]
        let terminal = try TerminalRun(command: ["/bin/bash", "--norc", "--noprofile", "-i"])
        terminal.type("PS1='$ '\r")
        terminal.type(run.joined(separator: " ") + " &\r")
        usleep(500_000)
        terminal.type("echo typed-to-the-shell\r")
        #expect(terminal.waitForOutput("Stopped"), "\(terminal.output)")
        #expect(!terminal.output.contains("got<>"), "\(terminal.output)")
        terminal.type("fg\r")
        usleep(500_000)
        terminal.type("hello\r")
        #expect(terminal.waitForOutput("got<hello>"), "\(terminal.output)")
        terminal.type("exit\r")
        #expect(terminal.finish() == 0, "\(terminal.output)")
    }

    /// Ctrl-Z without -t, from an interactive shell: the container's command
    /// stops, and so does swinit-run, so the shell gives its prompt back;
    /// `fg` resumes both. swinit-run used to stay in the foreground, the
    /// container stopped under it, deaf to Ctrl-C.
    @Test func ctrlZStopsTheRunAndFgResumesIt() throws {
        let harness = Harness.shared
        let run = [harness.swinitRun, "--init", harness.swinit] + rootfs
            + ["--", "sh", "-c", "'echo started; sleep 1; echo finished-$((6*7))'"]
        let terminal = try TerminalRun(command: ["/bin/bash", "--norc", "--noprofile", "-i"])
        terminal.type("PS1='$ '\r")
        terminal.type(run.joined(separator: " ") + "\r")
        #expect(terminal.waitForOutput("started\n"), "\(terminal.output)")
        terminal.type("\u{1a}")
        #expect(terminal.waitForOutput("Stopped"), "\(terminal.output)")
        usleep(1_500_000)
        #expect(!terminal.output.contains("finished-42"), "the container went on: \(terminal.output)")
        terminal.type("fg\r")
        #expect(terminal.waitForOutput("finished-42\n"), "\(terminal.output)")
        terminal.type("echo \"status<$?>\"\r")
        #expect(terminal.waitForOutput("status<0>"), "\(terminal.output)")
        terminal.type("exit\r")
        #expect(terminal.finish() == 0, "\(terminal.output)")
    }

    /// The caller's terminal comes back cooked however the container ends:
    /// its PID 1 killed with SIGKILL, swinit-run sent SIGTERM, or swinit-run
    /// killed with SIGKILL (then its terminal guard restores it).
    @Test(arguments: [(true, SIGKILL, 137), (false, SIGTERM, 143), (false, SIGKILL, 137)])
    func callersTerminalIsRestoredWhenTheContainerIsKilled(initTarget: Bool, signal: Int32, status: Int32) throws {
        let terminal = try TerminalRun(["-it"] + rootfs + ["--", "sh", "-c", "echo ready; sleep 30"])
        #expect(terminal.waitForOutput("ready"))
        let caller = try #require(terminal.swinitRun)
        let fd = open("/proc/\(caller)/fd/0", O_RDWR | O_NOCTTY)
        defer { close(fd) }
        #expect(localModes(fd).map { $0 & tcflag_t(ICANON) } == 0)
        let target = initTarget ? try #require(descendants(of: caller).first { commandLine($0).hasPrefix("/sbin/swinit") })
            : caller
        kill(target, signal)
        #expect(terminal.finish() == status, "\(terminal.output)")
        #expect(terminal.output.hasSuffix(TerminalRun.restored), "\(terminal.output)")
    }

    /// The state directories' root and each container's directory are root
    /// only, and so is the container's root seen through /proc/PID/root.
    @Test func stateDirectoriesAreRootOnly() throws {
        let root = Harness.shared.temporaryDirectory("state")
        chmod(root, 0o755)
        let name = "root-only-\(getpid())"
        let environment = ProcessInfo.processInfo.environment.merging(["SWINIT_RUN_STATE": root]) { $1 }
        let container = try Container(rootfs + ["--name", name, "--", "sh", "-c", "echo ready; sleep 5"],
                                      environment: environment)
        defer { kill(container.pid, SIGTERM); _ = container.finish() }
        #expect(container.waitForOutput("ready"))
        let mode = { (path: String) -> Int in
            ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
        }
        #expect(mode(root) == 0o700)
        #expect(mode(root + "/" + name) == 0o700)
        let initPID = try #require(descendants(of: container.pid).first)
        for path in [root + "/" + name, "/proc/\(initPID)/root/etc"] {
            let listing = shell(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "ls", path])
            #expect(listing.status != 0, "nobody lists \(path): \(listing.stdout)")
        }
    }
}
