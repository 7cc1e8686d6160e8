// SPDX-License-Identifier: Apache-2.0
// End-to-end harness: finds the real binaries, makes the busybox layers once
// per test process, runs swinit-run with a time limit, reads host state.
import Foundation
import Testing

/// Whether end-to-end tests can run (they need root for namespaces and mounts).
let isRoot = getuid() == 0

/// Paths and fixtures shared by the end-to-end tests.
struct Harness: Sendable {
    static let shared = Harness()

    let packageRoot: String
    let swinitRun: String
    let swinit: String
    /// Busybox base layer and the layer on top of it (scripts/make-rootfs.sh).
    let base: String
    let top: String
    let scratch: String

    private init() {
        let file = URL(fileURLWithPath: #filePath)
        packageRoot = file.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let env = ProcessInfo.processInfo.environment
        // swinit-run: $SWINIT_RUN_BIN, beside this test bundle (any scratch path), .build/debug.
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        swinitRun = env["SWINIT_RUN_BIN"]
            ?? [bundleDirectory + "/swinit-run", bundleDirectory + "/../swinit-run", packageRoot + "/.build/debug/swinit-run"]
                .first { FileManager.default.isExecutableFile(atPath: $0) } ?? packageRoot + "/.build/debug/swinit-run"
        var initPath = env["SWINIT_BIN"] ?? packageRoot + "/.build/static/swinit"
        if env["SWINIT_BIN"] == nil && !FileManager.default.isExecutableFile(atPath: initPath) {
            _ = Harness.shell(["bash", packageRoot + "/scripts/build-static.sh"])
        }
        if !FileManager.default.isExecutableFile(atPath: initPath) { initPath = "/nonexistent/swinit" }
        swinit = initPath
        scratch = Harness.scratchPath(for: getpid())
        Harness.removeScratchOfDeadRuns()
        // Swift Testing has no global teardown; the runner exits through exit(3).
        atexit { try? FileManager.default.removeItem(atPath: Harness.scratchPath(for: getpid())) }
        base = scratch + "/layers/base"
        top = scratch + "/layers/top"
        if isRoot {
            _ = Harness.shell(["sh", packageRoot + "/scripts/make-rootfs.sh", scratch + "/layers"])
        }
    }

    static func scratchPath(for pid: pid_t) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("swinit-run-tests-\(pid)").path
    }

    /// Removes the scratch directories of test runs that were killed.
    static func removeScratchOfDeadRuns() {
        let temporary = FileManager.default.temporaryDirectory.path
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] {
            guard entry.hasPrefix("swinit-run-tests-"), let pid = pid_t(entry.dropFirst(17)),
                  kill(pid, 0) != 0 && errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: temporary + "/" + entry)
        }
    }

    /// A fresh empty directory under the scratch directory.
    func temporaryDirectory(_ label: String = "dir") -> String {
        let path = scratch + "/\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @discardableResult
    static func shell(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The outcome of one swinit-run.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut = false
}

/// A swinit-run in flight, its output going to files (no pipe can fill up).
final class Container {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    /// Starts swinit-run with `--init` the static swinit (unless `--no-init`
    /// or `--init` is in `arguments`).
    init(_ arguments: [String], environment: [String: String]? = nil) throws {
        let harness = Harness.shared
        let directory = harness.temporaryDirectory("out")
        stdoutPath = directory + "/stdout"
        stderrPath = directory + "/stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: harness.swinitRun)
        // `image …` subcommands take no --init; `--image` may bring its own init
        // (else swinit-run finds .build/static/swinit beside itself).
        let choosesInit = arguments.contains("--no-init") || arguments.contains("--init") || arguments.first == "image"
            || arguments.contains("--image")
        process.arguments = (choosesInit ? [] : ["--init", harness.swinit]) + arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until stdout contains `text`; false after `timeout` seconds.
    func waitForOutput(_ text: String, timeout: Double = 10) -> Bool {
        waitFor(text, in: { stdout }, while: process, timeout: timeout)
    }

    /// Waits for exit; SIGKILLs swinit-run (by pid) after `timeout` seconds.
    func finish(timeout: Double = 20) -> RunResult {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus
            : process.terminationStatus
        return RunResult(status: status, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }
}

/// Waits until `output()` contains `text`, or `process` has exited without
/// it; false after `timeout` seconds.
func waitFor(_ text: String, in output: () -> String, while process: Process, timeout: Double) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if output().contains(text) { return true }
        if !process.isRunning { return output().contains(text) }
        usleep(10_000)
    }
    return false
}

/// Runs swinit-run to completion (bounded by `timeout` seconds).
func run(_ arguments: [String], timeout: Double = 20) throws -> RunResult {
    let result = try Container(arguments).finish(timeout: timeout)
    #expect(!result.timedOut, "swinit-run \(arguments) did not finish within \(timeout) s")
    return result
}

/// `--layer base --layer top` of the shared fixture.
var layers: [String] { ["--layer", Harness.shared.base, "--layer", Harness.shared.top] }
/// `--rootfs base` of the shared fixture.
var rootfs: [String] { ["--rootfs", Harness.shared.base] }

/// The host's mount table without the per-mount ids that change on remount.
func hostMountTable() -> String {
    (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
}

/// All descendants of `pid` on the host, via /proc/PID/task/TID/children.
func descendants(of pid: pid_t) -> [pid_t] {
    var result: [pid_t] = []
    var queue = [pid]
    while let next = queue.popLast() {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(next)/task")) ?? []
        for task in tasks {
            let text = (try? String(contentsOfFile: "/proc/\(next)/task/\(task)/children", encoding: .utf8)) ?? ""
            let children = text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            result += children
            queue += children
        }
    }
    return result
}

/// The one-letter state (R, S, Z, …) of host process `pid`, nil when gone.
func processState(_ pid: pid_t) -> Character? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    return stat[stat.index(close, offsetBy: 2)...].first
}
