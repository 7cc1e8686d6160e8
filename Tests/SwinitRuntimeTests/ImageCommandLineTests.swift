// SPDX-License-Identifier: Apache-2.0
// The command line around images: subcommands, --version, and one error
// style, `swinit-run: …` on one line, with a misspelled option named first.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: the store is root-only"), .timeLimit(.minutes(1)))
struct ImageCommandLineTests {
    static let cases: [([String], Int32, String)] = [
        (["--rootf", "/tmp", "--", "true"], 64, "swinit-run: unknown option '--rootf'\n"),
        (["--imag", "x:1", "--", "true"], 64, "swinit-run: unknown option '--imag'\n"),
        (["--bogus"], 64, "swinit-run: unknown option '--bogus'\n"),
        (["--image", "x", "--rootfs", "/tmp", "--", "true"], 64,
         "swinit-run: --image, --rootfs and --layer exclude each other\n"),
        (["--rootfs", "/tmp", "--entrypoint", "sh", "--", "true"], 64, "swinit-run: --entrypoint needs --image\n"),
        (["image", "load"], 64, "swinit-run: missing expected argument '<FILE|DIR>'\n"),
        (["image", "load", "/nonexistent/image.tar", "--store", "/nonexistent/store"], 125,
         "swinit-run: image load: /nonexistent/image.tar: stat: No such file or directory\n"),
        (["image", "rm", "x:1", "--store", "/nonexistent/store"], 125,
         "swinit-run: image: /nonexistent/store: no image store here (load an image first)\n"),
    ]

    @Test(arguments: cases)
    func errorsAreOneLineInOneStyle(arguments: [String], code: Int32, message: String) throws {
        let result = try run(["--no-init"].filter { _ in arguments.first != "image" } + arguments)
        #expect(result.status == code, "\(arguments): \(result.stderr)")
        #expect(result.stderr == message, "\(arguments)")
    }

    @Test func versionAndHelpAreOnStdout() throws {
        let version = try run(["--version"])
        #expect(version.status == 0 && version.stdout == "swinit-run 0.1.0\n" && version.stderr.isEmpty)
        let help = try run(["--help"])
        for text in ["--image", "--entrypoint", "--store", "image load|ls|rm|prune"] {
            #expect(help.stdout.contains(text), "help lacks \(text)")
        }
        let imageHelp = try run(["image", "--help"])
        for text in ["load", "ls", "rm", "prune", "125"] { #expect(imageHelp.stdout.contains(text)) }
    }

    @Test func theStoreComesFromSwinitStoreWhenNotGiven() throws {
        let fixture = ImageFixture()
        let path = try fixture.make("env", reference: "env:1", layers: [[file("a")]])
        let load = try Container(["image", "load", path], environment: ["SWINIT_STORE": fixture.store]).finish()
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try fixture.image(["ls"]).stdout.contains("env:1"))
    }
}
