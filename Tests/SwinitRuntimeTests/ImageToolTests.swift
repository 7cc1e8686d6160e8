// SPDX-License-Identifier: Apache-2.0
// Images made by the real tools from Debian — umoci, buildah, skopeo — with
// a layer that deletes a file and one that makes a directory opaque, loaded
// in every format they write and run with swinit-run. No registry.
import Foundation
import Testing

/// Runs a tool; returns its status and stdout (stderr goes to the test log).
/// posix_spawn and waitpid(2), stdout through a file: Foundation's Process
/// waits for descriptors a daemon the tool leaves (podman's conmon) inherits.
@discardableResult
func tool(_ arguments: [String]) -> (status: Int32, stdout: String) {
    let out = Harness.shared.temporaryDirectory("tool") + "/stdout"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ) == 0 else { return (127, "") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout)
}

func installed(_ program: String) -> Bool { tool(["sh", "-c", "command -v \(program)"]).status == 0 }

@Suite(.enabled(if: isRoot && installed("umoci") && installed("buildah") && installed("skopeo"),
                "needs root, umoci, buildah and skopeo (scripts/test.sh installs them)"),
       .timeLimit(.minutes(3)))
struct ImageToolTests {
    /// The script both images run: the deleted file and the replaced directory must be gone.
    static let check = "ls /d; test -e /gone && echo gone-is-back; echo done"

    @Test func umociImagesRunInEveryFormatSkopeoWrites() throws {
        let fixture = ImageFixture()
        let layout = fixture.directory + "/umoci"
        let bundle = fixture.directory + "/bundle"
        let base = Harness.shared.base
        let insert = fixture.directory + "/inserted"
        try Data("inserted by umoci\n".utf8).write(to: URL(fileURLWithPath: insert))
        for step in [
            ["umoci", "init", "--layout", layout],
            ["umoci", "new", "--image", layout + ":t"],
            ["umoci", "unpack", "--image", layout + ":t", bundle],
            ["sh", "-c", "cp -a \(base)/. \(bundle)/rootfs/ && mkdir \(bundle)/rootfs/d && echo o > \(bundle)/rootfs/d/old && echo g > \(bundle)/rootfs/gone"],
            ["umoci", "repack", "--image", layout + ":t", bundle],
            ["rm", "-rf", bundle],
            ["umoci", "unpack", "--image", layout + ":t", bundle],
            // A layer that deletes a file and replaces a directory.
            ["sh", "-c", "rm \(bundle)/rootfs/gone && rm -r \(bundle)/rootfs/d && mkdir \(bundle)/rootfs/d && echo n > \(bundle)/rootfs/d/new"],
            ["umoci", "repack", "--image", layout + ":t", bundle],
            ["umoci", "insert", "--image", layout + ":t", insert, "/inserted"],
            ["umoci", "config", "--image", layout + ":t", "--config.entrypoint", "sh", "--config.entrypoint", "-c",
             "--config.cmd", Self.check + "; cat /inserted", "--config.env", "FROM=umoci", "--config.workingdir", "/d"],
            ["skopeo", "copy", "-q", "oci:\(layout):t", "docker-archive:\(fixture.directory)/docker.tar:umoci/docker:1"],
            ["skopeo", "copy", "-q", "oci:\(layout):t", "oci-archive:\(fixture.directory)/oci.tar:umoci/archive:1"],
            ["skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd", "oci:\(layout):t",
             "oci:\(fixture.directory)/zstd:umoci/zstd:1"],
        ] {
            #expect(tool(step).status == 0, "\(step) failed")
        }
        let loads = [(layout, "umoci:t"), (fixture.directory + "/docker.tar", "umoci/docker:1"),
                     (fixture.directory + "/oci.tar", "umoci/archive:1"), (fixture.directory + "/zstd", "umoci/zstd:1")]
        for (source, name) in loads {
            let load = try fixture.image(["load", source])
            #expect(load.status == 0 && load.stdout == "Loaded image: \(name)\n", "\(source): \(load.stdout) \(load.stderr)")
            let result = try fixture.run(["--image", name])
            #expect(result.stdout == "new\ndone\ninserted by umoci\n", "\(name): \(result.stdout) \(result.stderr)")
            #expect(try fixture.run(["--image", name, "--entrypoint", "pwd"]).stdout == "/d\n")
        }
        // Three layers (two repacks, one insert) in four formats: the copies have other blobs
        // (docker-save uncompressed, zstd) but the same DiffIDs, so they add no layer.
        #expect(fixture.layers.count == 3, "\(fixture.layers)")
    }

    @Test func buildahImagesWithAnOpaqueDirectoryRun() throws {
        let fixture = ImageFixture()
        let storage = ["buildah", "--root", fixture.directory + "/root", "--runroot", fixture.directory + "/runroot",
                       "--storage-driver", "overlay"]
        defer {
            tool(storage + ["umount", "-a"])
            tool(storage + ["rm", "-a"])
            tool(storage + ["rmi", "-a", "-f"])
        }
        let scratch = tool(storage + ["from", "scratch"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!scratch.isEmpty)
        let mount = tool(storage + ["mount", scratch]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!mount.isEmpty)
        #expect(tool(["sh", "-c", "cp -a \(Harness.shared.base)/. \(mount)/ && mkdir \(mount)/d && echo o > \(mount)/d/old && echo g > \(mount)/gone"]).status == 0)
        #expect(tool(storage + ["config", "--cmd", "[\"sh\",\"-c\",\"\(Self.check)\"]", "--stop-signal", "SIGUSR1", scratch]).status == 0)
        #expect(tool(storage + ["commit", "-q", scratch, "base1"]).status == 0)
        let child = tool(storage + ["from", "base1"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let childMount = tool(storage + ["mount", child]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!childMount.isEmpty)
        // overlay records the replaced directory as opaque; buildah writes it as .wh..wh..opq.
        #expect(tool(["sh", "-c", "rm -r \(childMount)/d \(childMount)/gone && mkdir \(childMount)/d && echo n > \(childMount)/d/new"]).status == 0)
        #expect(tool(storage + ["commit", "-q", child, "img2"]).status == 0)
        let out = fixture.directory + "/buildah-oci"
        #expect(tool(storage + ["push", "-q", "img2", "oci:\(out):img2"]).status == 0)
        #expect(tool(storage + ["push", "-q", "img2", "oci-archive:\(fixture.directory)/b.tar:buildah/img:2"]).status == 0)
        let layers = tool(["sh", "-c", "for b in \(out)/blobs/sha256/*; do tar -tzf $b 2>/dev/null; done"]).stdout
        #expect(layers.contains("d/.wh..wh..opq") && layers.contains(".wh.gone"), "\(layers)")
        for (source, name) in [(out, "buildah-oci:img2"), (fixture.directory + "/b.tar", "buildah/img:2")] {
            let load = try fixture.image(["load", source])
            #expect(load.stdout == "Loaded image: \(name)\n", "\(load.stderr)")
            let result = try fixture.run(["--image", name])
            #expect(result.stdout == "new\ndone\n", "\(result.stdout) \(result.stderr)")
        }
    }
}
