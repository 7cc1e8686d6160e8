// SPDX-License-Identifier: Apache-2.0
// Bad command lines: exit 64 (usage) or 125 (a runtime failure), with a
// message that says what is wrong.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: namespaces and mounts"), .timeLimit(.minutes(1)))
struct CommandLineTests {
    static let base = Harness.shared.base

    static let cases: [([String], Int32, String)] = [
        ([], 64, "--rootfs DIR or --layer DIR"),
        (["--rootfs", base], 64, "missing COMMAND"),
        (["--rootfs", base, "--layer", base, "true"], 64, "exclude each other"),
        (["--rootfs", base, "--network", "bogus", "true"], 64, "network"),
        (["--rootfs", base, "-u", "bob", "true"], 64, "numeric UID"),
        (["--rootfs", base, "--cap-add", "NOPE", "true"], 64, "unknown capability"),
        (["--rootfs", base, "-v", "relative:/x", "true"], 64, "absolute"),
        (["--rootfs", base, "-v", "/tmp", "true"], 64, "HOST:CONTAINER"),
        (["--rootfs", base, "-v", "/tmp:/proc/x", "true"], 64, "inside /proc"),
        (["--rootfs", base, "--tmpfs", "/", "true"], 64, "cannot mount over /"),
        (["--rootfs", base, "--tmpfs", "/.", "true"], 64, "cannot mount over /"),
        (["--rootfs", base, "-v", "/tmp:/./proc/x", "true"], 64, "inside /proc"),
        (["--rootfs", base, "-w", "relative", "true"], 64, "absolute"),
        (["--rootfs", base, "--name", "../x", "true"], 64, "--name"),
        (["--rootfs", base, "--read-only", "--upper", "/tmp/u", "true"], 64, "exclude each other"),
        (["--rootfs", base, "--no-init", "--init-arg", "-v", "true"], 64, "--no-init"),
        (["--rootfs", base, "--bogus", "true"], 64, "bogus"),
        (["--rootfs", base, "--stop-timeout", "-2", "true"], 64, "--stop-timeout -2: expected seconds, or -1 for never"),
        (["--rootfs", base, "--stop-timeout", "10s", "true"], 64, "'10s' is invalid for '--stop-timeout"),
        (["--store", "/tmp", "image", "ls"], 64, "subcommands come first: swinit-run image ls"),
        // stdin is /dev/null here: -it needs a terminal to copy, as under docker run.
        (["--rootfs", base, "-it", "true"], 125, "swinit-run: -it: the input device is not a TTY"),
        (["--rootfs", "/nonexistent/rootfs", "true"], 125, "swinit-run: layer /nonexistent/rootfs: No such file or directory"),
        (["--rootfs", base, "-v", "/nonexistent/src:/x", "true"], 125, "volume source /nonexistent/src: No such file"),
        (["--rootfs", base, "--init", "/nonexistent/init", "true"], 125, "init /nonexistent/init: No such file"),
    ]

    @Test(arguments: cases)
    func badOptionsExitWithAClearMessage(arguments: [String], code: Int32, message: String) throws {
        let result = try run(["--no-init"].filter { _ in !arguments.contains("--init") && !arguments.contains("--init-arg") } + arguments)
        #expect(result.status == code, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
    }

    @Test func helpDocumentsExitStatuses() throws {
        let result = try run(["--help"])
        #expect(result.status == 0)
        for text in ["--rootfs", "--layer", "--upper", "--read-only", "--volume", "--tmpfs", "--env", "--workdir",
                     "--hostname", "--user", "--network", "--cap-add", "--cap-drop", "--init", "--no-init",
                     "--init-arg", "--name", "125", "126, 127", "128+N"] {
            #expect(result.stdout.contains(text), "help lacks \(text)")
        }
    }
}
