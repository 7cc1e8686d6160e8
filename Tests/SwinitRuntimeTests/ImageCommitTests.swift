// SPDX-License-Identifier: Apache-2.0
// `image commit` and `image save`: directories in overlay form become layers
// with OCI whiteouts, and an image made here is saved with the id it has.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: overlay whiteouts and trusted xattrs"), .timeLimit(.minutes(2)))
struct ImageCommitTests {
    @Test func overlayWhiteoutsAndOpaqueDirectoriesBecomeOCIOnesAndSaveKeepsTheId() throws {
        let fixture = ImageFixture()
        let lower = fixture.directory + "/lower", upper = fixture.directory + "/upper"
        let setup = tool(["sh", "-c", """
            set -e
            mkdir -p \(lower)/d \(upper)/d
            echo old > \(lower)/d/old; echo gone > \(lower)/gone
            mknod \(upper)/gone c 0 0
            setfattr -n trusted.overlay.opaque -v y \(upper)/d 2>/dev/null || python3 -c 'import os,sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' \(upper)/d
            echo new > \(upper)/d/new
            """])
        try #require(setup.status == 0)
        let commit = try fixture.image(["commit", "--tag", "made:1", "--cmd", #"["sh","-c","ls /d; cat /gone"]"#,
                                        "--stop-signal", "SIGUSR1", Harness.shared.base, lower, upper])
        #expect(commit.status == 0 && commit.stdout == "Committed image: made:1\n", "\(commit.stderr)")
        let result = try fixture.run(["--image", "made:1"])
        #expect(result.stdout == "new\n" && result.stderr.contains("can't open '/gone'"), "\(result.stdout) \(result.stderr)")

        let layout = fixture.directory + "/saved", archive = fixture.directory + "/saved.tar"
        let save = try fixture.image(["save", "made:1", "--oci", layout, "--docker-archive", archive])
        #expect(save.status == 0, "\(save.stderr)")
        // The top layer carries the OCI forms.
        let entries = tool(["sh", "-c", "for b in \(layout)/blobs/sha256/*; do tar -tf $b 2>/dev/null; done"]).stdout
        #expect(entries.contains(".wh.gone\n") && entries.contains("d/.wh..wh..opq\n"), "\(entries)")
        // Loaded elsewhere, in both forms, it is the same image: the same id.
        let id = String(fixture.records[0].prefix(12))
        for source in [layout, archive] {
            let other = ImageFixture()
            #expect(try other.image(["load", source]).status == 0)
            #expect(try other.image(["ls"]).stdout.contains(id), "\(source) has another id")
            #expect(try other.run(["--image", "made:1"]).stdout == "new\n")
        }
    }

    /// An image another tool made is packed again on save, so it gets a new
    /// config (new DiffIDs); that config is the same bytes every time (keys
    /// sorted), so saving twice gives one id, not two.
    @Test func aForeignImageSavesToTheSameIdEveryTime() throws {
        let fixture = ImageFixture()
        let made = try fixture.make("foreign", reference: "foreign:1",
                                    config: ["Env": ["A=1", "B=2"], "Labels": ["one": "1", "two": "2", "three": "3"],
                                             "ExposedPorts": ["80/tcp": [:], "443/tcp": [:]], "Cmd": ["true"]],
                                    layers: [ImageFixture.busybox, [file("etc/foreign", "x")]])
        #expect(try fixture.image(["load", made]).status == 0)
        var configs: Set<String> = []
        for index in 0..<3 {
            let layout = fixture.directory + "/saved-\(index)"
            let save = try fixture.image(["save", "foreign:1", "--oci", layout])
            #expect(save.status == 0, "\(save.stderr)")
            let manifest = tool(["sh", "-c", "cat \(layout)/index.json"]).stdout
            configs.insert(manifest)
        }
        #expect(configs.count == 1, "\(configs)")
    }

    @Test func commitRefusesABadNameOrConfigWithoutTouchingTheStore() throws {
        let fixture = ImageFixture()
        let badName = try fixture.image(["commit", "--tag", "Bad Name", Harness.shared.base])
        #expect(badName.status == 64 && badName.stderr == "swinit-run: --tag 'Bad Name': not a valid NAME[:TAG]\n",
                "\(badName.stderr)")
        // Path components must start and end with a letter or digit: no `..`.
        let dotted = try fixture.image(["commit", "--tag", "../../etc:1", Harness.shared.base])
        #expect(dotted.status == 64, "\(dotted.stderr)")
        let badCmd = try fixture.image(["commit", "--tag", "x:1", "--cmd", "sh -c true", Harness.shared.base])
        #expect(badCmd.status == 64 && badCmd.stderr.hasPrefix("swinit-run: the value 'sh -c true' is invalid for '--cmd <JSON>'")
                && badCmd.stderr.hasSuffix(": expected a JSON array of strings\n"), "\(badCmd.stderr)")
        #expect(fixture.layers.isEmpty)
    }
}
