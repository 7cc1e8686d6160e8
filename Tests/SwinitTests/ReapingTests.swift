// SPDX-License-Identifier: Apache-2.0
// Orphans: as PID 1 and as subreaper, swinit reaps every one of them.
import Foundation
import Testing

@Suite("reaping", rootOnly, .serialized)
struct ReapingTests {
    @Test("as PID 1, a burst of thousands of orphans leaves no zombie", arguments: InitBuild.allCases)
    func burstAsPID1(build: InitBuild) throws {
        let result = try runAsPID1(build, ["--", probe, "orphans", "3000"])
        #expect(result.stdout.contains("left 0 zombies 0"), "\(result.stdout)")
        #expect(result.status == 0)
    }

    @Test("as subreaper (not PID 1), a burst of orphans leaves no zombie", .notUnderQemu(.subreaper), arguments: InitBuild.allCases)
    func burstAsSubreaper(build: InitBuild) throws {
        let result = try run(build.path, ["--", probe, "orphans", "1000"])
        #expect(result.stdout.contains("left 0 zombies 0"), "\(result.stdout)")
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
    }

    @Test("not PID 1, swinit registers as subreaper by default and adopts orphans", .notUnderQemu(.subreaper), arguments: InitBuild.allCases)
    func adoptsOrphansWhenNotPID1(build: InitBuild) throws {
        let spawned = try Spawned(build.path, ["--", probe, "orphan-parent"])
        #expect(spawned.line(containing: "adopted by") == "adopted by \(spawned.pid)")
        #expect(spawned.waitForExit() == 0)
        #expect(spawned.remainingOutput().stderr.isEmpty)
    }

    @Test("--no-subreaper (or SWINIT_SUBREAPER=0) leaves orphans to the real init, with one warning", arguments: InitBuild.allCases)
    func noSubreaperWarns(build: InitBuild) throws {
        for (options, environment) in [(["--no-subreaper"], [String: String]()), ([], ["SWINIT_SUBREAPER": "0"])] {
            let spawned = try Spawned(build.path, options + ["--", probe, "orphan-parent"], environment: environment)
            let line = spawned.line(containing: "adopted by")
            #expect(line != nil && line != "adopted by \(spawned.pid)")
            #expect(spawned.waitForExit() == 0)
            #expect(spawned.remainingOutput().stderr
                == "[swinit] warning: not PID 1 and not a subreaper: orphans will be reaped by the real init, not by swinit\n")
        }
    }

    @Test("-s, SWINIT_SUBREAPER=1 and TINI_SUBREAPER register as subreaper", .notUnderQemu(.subreaper), arguments: InitBuild.allCases)
    func explicitSubreaper(build: InitBuild) throws {
        let cases: [([String], [String: String])] = [
            (["-s"], ["SWINIT_SUBREAPER": "0"]),  // the option wins over the environment
            (["--subreaper"], [:]),
            ([], ["TINI_SUBREAPER": ""]),
            ([], ["SWINIT_SUBREAPER": "1"]),
        ]
        for (options, environment) in cases {
            let spawned = try Spawned(build.path, options + ["--", probe, "orphan-parent"], environment: environment)
            #expect(spawned.line(containing: "adopted by") == "adopted by \(spawned.pid)", "\(options) \(environment)")
            #expect(spawned.waitForExit() == 0)
        }
    }

    @Test("as PID 1, swinit registers as subreaper only when asked (-s, SWINIT_SUBREAPER, TINI_SUBREAPER)", .notUnderQemu(.subreaper), arguments: InitBuild.allCases)
    func subreaperAsPID1OnlyWhenAsked(build: InitBuild) throws {
        let registered = "[swinit] debug: registered as child subreaper"
        #expect(!(try runAsPID1(build, ["-vv", probe, "exit", "0"]).stderr.contains(registered)))
        #expect(try runAsPID1(build, ["-vv", "-s", probe, "exit", "0"]).stderr.contains(registered))
        for environment in [["TINI_SUBREAPER": ""], ["SWINIT_SUBREAPER": "1"]] {
            #expect(try runAsPID1(build, ["-vv", probe, "exit", "0"], environment: environment).stderr.contains(registered))
        }
    }

    @Test("-w logs every orphan reaped; without it, none is logged", arguments: InitBuild.allCases)
    func warnOnReap(build: InitBuild) throws {
        let warned = try runAsPID1(build, ["-w", "--", probe, "orphans", "5"])
        let reapedLines = warned.stderr.split(separator: "\n").filter { $0.contains("reaped orphan") }
        #expect(reapedLines.count == 5)
        #expect(reapedLines.allSatisfy { $0.wholeMatch(of: /\[swinit\] warning: reaped orphan \d+: exited with 0/) != nil })
        let quiet = try runAsPID1(build, ["--", probe, "orphans", "5"])
        #expect(!quiet.stderr.contains("reaped orphan"))
    }
}
