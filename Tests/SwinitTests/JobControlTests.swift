// SPDX-License-Identifier: Apache-2.0
// Under a terminal: the child's group becomes the foreground group; Ctrl-Z
// stops the job and the run stays recoverable; not as PID 1, swinit stops
// with its child so the calling shell sees the job stopped.
import Foundation
import Testing

/// Runs `command` on a fresh pseudo-terminal (probe pty) and returns the
/// handle and the pid of the process on the terminal.
func startOnTerminal(_ command: [String]) throws -> (Spawned, pid_t) {
    let spawned = try Spawned(probe, ["pty"] + command)
    let line = try #require(spawned.line(containing: "pty child"))
    return (spawned, pid_t(line.split(separator: " ").last!)!)
}

@Suite("job control", rootOnly, .serialized)
struct JobControlTests {
    @Test("with a terminal on stdin, the child's group is the foreground process group", arguments: InitBuild.allCases)
    func childTakesForeground(build: InitBuild) throws {
        let (spawned, _) = try startOnTerminal([build.path, "--", probe, "ids"])
        let line = try #require(spawned.line(containing: "foreground"))
        let fields = line.split(whereSeparator: \.isWhitespace)
        #expect(fields[1] == fields[5] && fields[5] == fields[9], "pid == pgid == foreground: \(line)")
        #expect(spawned.waitForExit() == 0)
    }

    @Test("started in the background (`swinit … &` with job control), swinit leaves the terminal to the shell", arguments: InitBuild.allCases)
    func backgroundJobDoesNotStealTerminal(build: InitBuild) throws {
        // `set -m`: the shell puts the background job in a process group of its own.
        let (spawned, shell) = try startOnTerminal(["/bin/sh", "-c", "set -m; \"$0\" -- \"$1\" ids & wait", build.path, probe])
        let line = try #require(spawned.line(containing: "foreground"))
        let fields = line.split(whereSeparator: \.isWhitespace)
        #expect(fields[9] == "\(shell)", "the shell keeps the foreground: \(line)")
        #expect(fields[5] != fields[9])
        #expect(spawned.waitForExit() == 0)
    }

    @Test("without a terminal there is no foreground to take, and that is fine", .notUnderQemu(.subreaper), arguments: InitBuild.allCases)
    func noTerminalIsTolerated(build: InitBuild) throws {
        let result = try run(build.path, ["--", probe, "ids"])
        #expect(result.status == 0)
        #expect(result.stdout.hasSuffix("foreground -1\n"))
        #expect(result.stderr.isEmpty)
    }

    @Test("Ctrl-Z, not PID 1: swinit stops with its child; SIGCONT resumes both", arguments: InitBuild.allCases)
    func ctrlZStopsTheJob(build: InitBuild) throws {
        let (spawned, swinit) = try startOnTerminal([build.path, "--", "/bin/sh", "-c", "read line; echo got $line"])
        #expect(eventually { children(of: swinit).count == 1 && processState(children(of: swinit)[0]) == "S" })
        let child = children(of: swinit)[0]
        spawned.send("\u{1A}")  // ^Z: SIGTSTP to the foreground group
        #expect(eventually { processState(child) == "T" })
        #expect(eventually { processState(swinit) == "T" }, "swinit stops so a shell sees the job stopped")
        kill(swinit, SIGCONT)  // what a shell's `fg` does
        #expect(eventually { processState(swinit) == "S" && processState(child) == "S" })
        spawned.send("hello\n")
        #expect(spawned.line(containing: "got hello") != nil)
        #expect(spawned.waitForExit() == 0)
    }

    @Test("a SIGTSTP sent to swinit (no terminal) stops the child and swinit; SIGCONT resumes", arguments: InitBuild.allCases)
    func tstpWithoutTerminal(build: InitBuild) throws {
        let spawned = try Spawned(build.path, ["--", probe, "sleep", "60000"])
        #expect(eventually { children(of: spawned.pid).count == 1 })
        let child = children(of: spawned.pid)[0]
        spawned.signal(SIGTSTP)
        #expect(eventually { processState(child) == "T" && processState(spawned.pid) == "T" })
        spawned.signal(SIGCONT)
        #expect(eventually { processState(child) == "S" && processState(spawned.pid) == "S" })
        spawned.signal(SIGTERM)
        #expect(spawned.waitForExit() == 128 + SIGTERM)
    }

    @Test("Ctrl-Z as PID 1: the job stops, swinit does not, and SIGCONT recovers it", arguments: InitBuild.allCases)
    func ctrlZAsPID1StaysRecoverable(build: InitBuild) throws {
        let (spawned, unshare) = try startOnTerminal(
            ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "--kill-child", build.path, "--",
             "/bin/sh", "-c", "read line; echo got $line"])
        #expect(eventually { children(of: unshare).count == 1 })
        let swinit = children(of: unshare)[0]
        #expect(eventually { children(of: swinit).count == 1 && processState(children(of: swinit)[0]) == "S" })
        let child = children(of: swinit)[0]
        spawned.send("\u{1A}")
        #expect(eventually { processState(child) == "T" })
        usleep(200_000)
        #expect(processState(swinit) == "S", "PID 1 never stops itself")
        kill(swinit, SIGCONT)
        #expect(eventually { processState(child) == "S" })
        spawned.send("again\n")
        #expect(spawned.line(containing: "got again") != nil)
        #expect(spawned.waitForExit() == 0)
    }
}
