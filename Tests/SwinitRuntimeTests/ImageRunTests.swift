// SPDX-License-Identifier: Apache-2.0
// `--image`: the config made into a process as `docker run` does, with every
// run option still working.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: namespaces and mounts"), .timeLimit(.minutes(2)))
struct ImageRunTests {
    static let passwd = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1001::/home/bob:/bin/sh\n"
    static let group = "root:x:0:\nstaff:x:50:\nbob:x:1001:\n"

    /// Loads a busybox image with `config` as `t:1`.
    func image(_ config: [String: Any], extra: [LayerEntry] = []) throws -> ImageFixture {
        let fixture = ImageFixture()
        let path = try fixture.make("t", reference: "t:1", config: config, layers: [
            ImageFixture.busybox, [file("etc/passwd", Self.passwd), file("etc/group", Self.group)] + extra,
        ])
        let load = try fixture.image(["load", path])
        #expect(load.status == 0, "\(load.stderr)")
        return fixture
    }

    @Test func argumentsReplaceCmdAndEntrypointDropsIt() throws {
        let fixture = try image(["Entrypoint": ["/bin/echo", "ep"], "Cmd": ["cmd"]])
        #expect(try fixture.run(["--image", "t:1"]).stdout == "ep cmd\n")
        #expect(try fixture.run(["--image", "t:1", "--", "a", "b"]).stdout == "ep a b\n")
        #expect(try fixture.run(["--image", "t:1", "a"]).stdout == "ep a\n")
        #expect(try fixture.run(["--image", "t:1", "--entrypoint", "/bin/echo"]).stdout == "\n")
        #expect(try fixture.run(["--image", "t:1", "--entrypoint", "/bin/echo", "--", "x"]).stdout == "x\n")
    }

    @Test func anImageWithNothingToRunNeedsACommand() throws {
        let fixture = try image([:])
        let result = try fixture.run(["--image", "t:1"])
        #expect(result.status == 125 && result.stderr.contains("no Entrypoint or Cmd"), "\(result.stderr)")
        #expect(try fixture.run(["--image", "t:1", "--", "true"]).status == 0)
    }

    @Test func environmentIsDefaultsThenImageThenCommandLine() throws {
        let fixture = try image(["Env": ["PATH=/bin:/sbin", "FOO=image", "BAR=image"]])
        let result = try fixture.run(["--image", "t:1", "--hostname", "box", "-e", "FOO=user", "--", "env"])
        let lines = Set(result.stdout.split(separator: "\n").map(String.init))
        #expect(lines.isSuperset(of: ["PATH=/bin:/sbin", "FOO=user", "BAR=image", "HOSTNAME=box", "HOME=/root"]),
                "\(result.stdout)")
    }

    @Test func workingDirIsCreatedAndWorkdirOverridesIt() throws {
        let fixture = try image(["WorkingDir": "/srv/app"])
        #expect(try fixture.run(["--image", "t:1", "--", "pwd"]).stdout == "/srv/app\n")
        #expect(try fixture.run(["--image", "t:1", "-w", "/tmp", "--", "pwd"]).stdout == "/tmp\n")
        #expect(try image([:]).run(["--image", "t:1", "--", "pwd"]).stdout == "/\n")
    }

    @Test func userNamesResolveAgainstTheImagesOwnFiles() throws {
        let named = try image(["User": "bob"])
        #expect(try named.run(["--image", "t:1", "--", "id", "-u"]).stdout == "1000\n")
        #expect(try named.run(["--image", "t:1", "--", "id", "-g"]).stdout == "1001\n")
        #expect(try named.run(["--image", "t:1", "-u", "0", "--", "id", "-u"]).stdout == "0\n")
        #expect(try named.run(["--image", "t:1", "-u", "bob:staff", "--", "id", "-G"]).stdout == "50\n")
        // HOME comes from the user's passwd entry, as runc sets it; / without one.
        #expect(try named.run(["--image", "t:1", "--", "sh", "-c", "echo $HOME"]).stdout == "/home/bob\n")
        #expect(try named.run(["--image", "t:1", "-u", "4242", "--", "sh", "-c", "echo $HOME"]).stdout == "/\n")
        let numeric = try image(["User": "1000"])
        #expect(try numeric.run(["--image", "t:1", "--", "id", "-g"]).stdout == "1001\n")
        let unknown = try image(["User": "nobody-here"])
        let result = try unknown.run(["--image", "t:1", "--", "true"])
        #expect(result.status == 125)
        #expect(result.stderr == "swinit-run: image: user nobody-here: not found in the image's /etc/passwd\n")
    }

    @Test func sigtermBecomesTheImagesStopSignal() throws {
        let fixture = try image(["StopSignal": "SIGUSR1"])
        let container = try Container(["--store", fixture.store, "--image", "t:1", "--", "sh", "-c",
                                       "trap 'echo got-usr1; exit 7' USR1; trap 'echo got-term; exit 8' TERM; echo ready; while :; do sleep 0.1; done"])
        #expect(container.waitForOutput("ready"))
        kill(container.pid, SIGTERM)
        let result = container.finish()
        #expect(result.stdout == "ready\ngot-usr1\n" && result.status == 7, "\(result.stdout) \(result.status)")
    }

    @Test func anInitEntrypointIsPID1ItselfAndNothingIsInjected() throws {
        let initLayer = Harness.shared.temporaryDirectory("init-layer")
        try FileManager.default.copyItem(atPath: Harness.shared.swinit, toPath: initLayer + "/swinit")
        let fixture = ImageFixture()
        let path = try fixture.make("own", reference: "own:1",
                                    config: ["Entrypoint": ["/swinit", "--"], "Cmd": ["cat", "/proc/1/cmdline"]],
                                    layers: [ImageFixture.busybox, initLayer])
        #expect(try fixture.image(["load", path]).status == 0)
        let own = try fixture.run(["--image", "own:1"])
        #expect(own.stdout == "/swinit\0--\0cat\0/proc/1/cmdline\0", "\(own.stdout.debugDescription) \(own.stderr)")
        let mounted = try fixture.run(["--image", "own:1", "--", "sh", "-c", "test -e /sbin/swinit && echo injected || echo none"])
        #expect(mounted.stdout == "none\n")
        // --init-arg has no init to go to: said once, and the run goes on.
        let ignored = try fixture.run(["--image", "own:1", "--init-arg", "-v", "--", "true"])
        #expect(ignored.status == 0)
        #expect(ignored.stderr.hasPrefix("swinit-run: warning: --init-arg ignored: the image's entrypoint /swinit is its own init"),
                "\(ignored.stderr)")
        // Without an init entrypoint, swinit-run's init is PID 1 as before.
        let plain = try fixture.run(["--image", "own:1", "--entrypoint", "cat", "--", "/proc/1/cmdline"])
        #expect(plain.stdout.hasPrefix("/sbin/swinit\0"), "\(plain.stdout.debugDescription)")
    }

    @Test func runOptionsWorkWithImages() throws {
        let fixture = try image(["Cmd": ["sh", "-c", "echo hi > /data/out; touch /root-write"]])
        let data = Harness.shared.temporaryDirectory("data")
        #expect(try fixture.run(["--image", "t:1", "-v", "\(data):/data"]).status == 0)
        #expect((try? String(contentsOfFile: data + "/out", encoding: .utf8)) == "hi\n")
        let readOnly = try fixture.run(["--image", "t:1", "--read-only", "-v", "\(data):/data"])
        #expect(readOnly.status != 0 && readOnly.stderr.contains("Read-only file system"), "\(readOnly.stderr)")
        let upper = Harness.shared.temporaryDirectory("upper")
        #expect(try fixture.run(["--image", "t:1", "--upper", upper, "-v", "\(data):/data"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: upper + "/upper/root-write"))
    }

    /// An image's strings reach error lines; their control characters are
    /// shown as \xNN, so a hostile image cannot drive the caller's terminal
    /// (set its title, clear it) or cut the line short with a NUL.
    @Test func controlCharactersOfAnImageAreShownNotObeyed() throws {
        let hostile = try image(["User": "evil\u{1b}]0;pwned\u{07}\u{1b}[2J\u{0}tail"])
        let result = try hostile.run(["--image", "t:1", "--", "true"])
        #expect(result.status == 125)
        #expect(result.stderr == "swinit-run: image: user evil\\x1b]0;pwned\\x07\\x1b[2J\\x00tail: not found in the image's /etc/passwd\n",
                "\(result.stderr)")
    }

    @Test func anUnknownImageIsOneClearLine() throws {
        let fixture = try image([:])
        let result = try fixture.run(["--image", "nope:2", "--", "true"])
        #expect(result.status == 125)
        #expect(result.stderr.hasPrefix("swinit-run: image: nope:2: no such image in "), "\(result.stderr)")
        // A bare name is looked up as NAME:latest, and the message says so.
        let bare = try fixture.run(["--image", "nope", "--", "true"])
        #expect(bare.stderr.hasPrefix("swinit-run: image: nope:latest: no such image in "), "\(bare.stderr)")
    }
}
