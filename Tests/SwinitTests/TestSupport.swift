// SPDX-License-Identifier: Apache-2.0
// Running the real binaries: where they are, and a process handle that reads
// its output line by line with deadlines, so no test can hang.
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Which build of swinit a test runs.
///
/// `SWINIT_TEST_QEMU=qemu-aarch64-static` with `SWINIT_STATIC_BIN` naming the
/// aarch64 binary runs the static build's tests under qemu-user (the host
/// build is then not under test); see `qemuWrapper`.
enum InitBuild: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// scripts/build-static.sh: Embedded Swift, musl, static.
    case staticEmbedded = "static"
    /// `swift build`: host mode.
    case host

    static var allCases: [InitBuild] { qemu == nil ? [.staticEmbedded, .host] : [.staticEmbedded] }

    /// The qemu-user emulator to run the static build under, if any.
    static let qemu = ProcessInfo.processInfo.environment["SWINIT_TEST_QEMU"].flatMap { $0.isEmpty ? nil : $0 }

    var path: String {
        switch self {
        case .staticEmbedded:
            let binary = ProcessInfo.processInfo.environment["SWINIT_STATIC_BIN"] ?? "\(packageRoot)/.build/static/swinit"
            return Self.qemu == nil ? binary : qemuWrapper(for: binary)
        case .host:
            if let path = ProcessInfo.processInfo.environment["SWINIT_HOST_BIN"] { return path }
            // `swift test` builds the executable next to the test bundle.
            let bundleDirectory = Bundle.main.bundleURL.path
            for candidate in ["\(bundleDirectory)/swinit", "\(packageRoot)/.build/debug/swinit"]
            where FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
            return "\(packageRoot)/.build/debug/swinit"
        }
    }

    var testDescription: String { rawValue }
}

/// A script that runs `binary` under `SWINIT_TEST_QEMU` and passes its own
/// name on as the guest's argv[0] (`-0`), so a symlink named `docker-init`
/// to it still chooses swinit's personality. `exec` keeps the pid, so the
/// emulated swinit is PID 1 where the script was. Kept under .build.
func qemuWrapper(for binary: String) -> String {
    let path = "\(packageRoot)/.build/qemu-wrapper/swinit"
    if !FileManager.default.fileExists(atPath: path) {
        try? FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let script = "#!/bin/sh\nexec \(InitBuild.qemu!) -0 \"$0\" \(binary) \"$@\"\n"
        let temporary = path + ".\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: temporary, contents: Data(script.utf8), attributes: [.posixPermissions: 0o755])
        rename(temporary, path)
    }
    return path
}

/// Why a test cannot run while the static build runs under qemu-user
/// (`SWINIT_TEST_QEMU`): limits of the emulator, not of swinit.
enum QemuLimit: String {
    /// Any test that needs swinit as subreaper, or an exact stderr when not PID 1.
    case subreaper = "qemu-user does not implement prctl(PR_SET_CHILD_SUBREAPER) (EINVAL)"
    /// The tests that read swinit's SigBlk/SigIgn from /proc.
    case procStatus = "/proc/PID/status shows qemu's own signal mask and dispositions, not the guest's"
}

extension Trait where Self == ConditionTrait {
    /// Skips the test, with `limit`'s reason, when the static build runs under qemu-user.
    static func notUnderQemu(_ limit: QemuLimit) -> Self {
        .disabled(if: InitBuild.qemu != nil, Comment(rawValue: limit.rawValue))
    }
}

/// The static test helper (Sources/swinit-probe), built by scripts/build-static.sh.
let probe = ProcessInfo.processInfo.environment["SWINIT_PROBE_BIN"] ?? "\(packageRoot)/.build/static/swinit-probe"

let isRoot = getuid() == 0

/// Every black-box test runs as root (namespaces, subreaper, ptys).
let rootOnly = ConditionTrait.enabled(if: isRoot, "needs root for pid namespaces")

/// A started process with piped stdin, stdout and stderr.
///
/// Spawned with posix_spawn(3) and reaped with waitpid(2) by pid, not with
/// Foundation's Process: the test runner's worker threads block most
/// signals and hold descriptors open, and a spawned process would inherit
/// both; Process's own reaping also proved unreliable under parallel tests.
/// The child starts through `swinit-probe clean`, which also resets the
/// signals libc cannot name (32-34).
final class Spawned {
    let pid: pid_t
    private var stdinFD: Int32
    private let stdoutFD: Int32
    private let stderrFD: Int32
    private var exitStatus: Int32?
    private var pendingBytes: [UInt8] = []
    private var pendingLines: [String] = []
    private(set) var stdoutSoFar = ""

    /// Starts `executable` (an absolute path) with `arguments`.
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) throws {
        var stdinPipe: [Int32] = [0, 0], stdoutPipe: [Int32] = [0, 0], stderrPipe: [Int32] = [0, 0]
        // pipe2 and closefrom are GNU extensions Swift does not see; a
        // descriptor that leaks into a concurrent spawn for a moment is closed
        // there by `swinit-probe clean`.
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno)!)
        }
        for fd in stdinPipe + stdoutPipe + stderrPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = [probe, "clean"] + (directory.map { ["-C", $0] } ?? []) + [executable] + arguments
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment ?? [:] { variables[name] = value }
        let envp = variables.map { "\($0.key)=\($0.value)" }
        var cArgv = argv.map { strdup($0) } + [nil]
        var cEnvp = envp.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnvp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, probe, &actions, &attributes, &cArgv, &cEnvp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard result == 0 else {
            close(stdinPipe[1]); close(stdoutPipe[0]); close(stderrPipe[0])
            throw POSIXError(POSIXErrorCode(rawValue: result)!)
        }
        pid = child
        stdinFD = stdinPipe[1]
        stdoutFD = stdoutPipe[0]
        stderrFD = stderrPipe[0]
    }

    /// Writes `text` to the process's stdin.
    func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(stdinFD, &bytes, bytes.count)
    }

    /// Closes stdin once: a second close could hit a descriptor number that
    /// another test's thread has been given in the meantime.
    func closeStdin() {
        guard stdinFD >= 0 else { return }
        close(stdinFD)
        stdinFD = -1
    }

    /// Reads stdout until a line containing `needle` arrives. Lines that do
    /// not match stay queued for later calls, in order.
    /// - Returns: that line, or nil at the deadline or at end of output.
    func line(containing needle: String, within seconds: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let index = pendingLines.firstIndex(where: { $0.contains(needle) }) {
                return pendingLines.remove(at: index)
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            guard let chunk = readChunk(stdoutFD, waitingUpTo: min(remaining, 1)) else { continue }
            if chunk.isEmpty { return nil }
            stdoutSoFar += String(decoding: chunk, as: UTF8.self)
            pendingBytes += chunk
            while let newline = pendingBytes.firstIndex(of: UInt8(ascii: "\n")) {
                pendingLines.append(String(decoding: pendingBytes[..<newline], as: UTF8.self))
                pendingBytes.removeSubrange(...newline)
            }
        }
    }

    /// One read of at most 64 KiB: nil when nothing came in time, empty at EOF.
    private func readChunk(_ fd: Int32, waitingUpTo seconds: Double) -> [UInt8]? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(seconds * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(fd, &buffer, buffer.count)
        return count <= 0 ? [] : Array(buffer[..<count])
    }

    /// Sends `signal` to the process.
    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the exit, at most `seconds`; on the deadline, SIGKILLs it.
    /// - Returns: the exit code, or 128+N for a death by signal N, or nil on timeout.
    func waitForExit(within seconds: Double = 20) -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                exitStatus = decode(status)
                return exitStatus
            }
            if reaped < 0 { return nil }
            usleep(2_000)
        }
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exitStatus = -1
        return nil
    }

    private func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// What is left on stdout and stderr: read until EOF, but for at most
    /// `seconds`, as a leftover process may keep a pipe open.
    func remainingOutput(within seconds: Double = 3) -> (stdout: String, stderr: String) {
        let deadline = Date().addingTimeInterval(seconds)
        var errors: [UInt8] = []
        var stdoutOpen = true, stderrOpen = true
        while (stdoutOpen || stderrOpen) && Date() < deadline {
            if stdoutOpen, let chunk = readChunk(stdoutFD, waitingUpTo: 0.05) {
                if chunk.isEmpty { stdoutOpen = false } else { stdoutSoFar += String(decoding: chunk, as: UTF8.self) }
            }
            if stderrOpen, let chunk = readChunk(stderrFD, waitingUpTo: 0.05) {
                if chunk.isEmpty { stderrOpen = false } else { errors += chunk }
            }
        }
        return (stdoutSoFar, String(decoding: errors, as: UTF8.self))
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        closeStdin()
        close(stdoutFD)
        close(stderrFD)
    }
}

/// The outcome of a finished run.
struct Finished {
    let status: Int32?
    let stdout: String
    let stderr: String
}

/// Runs a command to completion (bounded) and collects its output.
func run(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
    within seconds: Double = 30
) throws -> Finished {
    let spawned = try Spawned(executable, arguments, environment: environment, directory: directory)
    spawned.closeStdin()
    let status = spawned.waitForExit(within: seconds)
    let output = spawned.remainingOutput()
    return Finished(status: status, stdout: output.stdout, stderr: output.stderr)
}

/// Runs `swinit ARGS` as PID 1 of a fresh pid namespace.
func runAsPID1(_ build: InitBuild, _ arguments: [String], environment: [String: String]? = nil) throws -> Finished {
    try run("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", build.path] + arguments, environment: environment)
}

/// One field of /proc/PID/status ("State", "SigBlk", "voluntary_ctxt_switches").
func procStatus(_ pid: pid_t, _ field: String) -> String? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces)
    }
    return nil
}

/// The single-letter state of PID ("S", "T", "Z"), from /proc/PID/stat.
func processState(_ pid: pid_t) -> Character? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    let rest = text[text.index(close, offsetBy: 2)...]
    return rest.first
}

/// The children of PID (from /proc/PID/task/PID/children).
func children(of pid: pid_t) -> [pid_t] {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return [] }
    return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Polls `condition` every 10 ms for at most `seconds`.
func eventually(within seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if condition() { return true }
        usleep(10_000)
    } while Date() < deadline
    return condition()
}

/// Whether PID exists (zombies included).
func isAlive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 }

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "swinit-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Whether swinit (PID 1 of its namespace) blocks every signal and waits on
/// its signalfd, so a signal sent now is not lost. Under qemu-user, /proc
/// shows qemu's own mask: there the sleep in the read is the sign.
func waitsForSignals(_ swinit: pid_t) -> Bool {
    processState(swinit) == "S" && (InitBuild.qemu != nil || procStatus(swinit, "SigBlk") == allBlocked)
}

/// SigBlk of a process that blocks every signal the kernel lets it block
/// (all 64 but SIGKILL and SIGSTOP).
let allBlocked = "fffffffffffbfeff"
