// SPDX-License-Identifier: Apache-2.0
// The overlay root, its layers, the thin writable layer, volumes, read-only.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: namespaces and mounts"), .timeLimit(.minutes(1)))
struct FilesystemTests {
    let harness = Harness.shared

    @Test func rootWritesVanishVolumeWritesPersistLayersStayUntouched() throws {
        let volume = harness.temporaryDirectory("volume")
        let before = try FileManager.default.contentsOfDirectory(atPath: harness.base).sorted()
        let result = try run(layers + ["-v", "\(volume):/data", "--", "sh", "-c",
                                       "echo root > /root-file && echo vol > /data/file && rm /etc/layer && echo ok"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: volume + "/file", encoding: .utf8) == "vol\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: harness.base).sorted() == before)
        #expect(try String(contentsOfFile: harness.top + "/etc/layer", encoding: .utf8) == "top\n")
        let again = try run(layers + ["--", "sh", "-c", "test -e /root-file && echo found || echo gone"])
        #expect(again.stdout == "gone\n")
    }

    @Test func higherLayerHidesLowerOne() throws {
        let result = try run(layers + ["--", "cat", "/etc/layer", "/etc/top-only", "/etc/deletable"])
        #expect(result.stdout == "top\ntop\nbase\n", "\(result.stderr)")
    }

    @Test func deletionInTheThinLayerIsAWhiteout() throws {
        let upper = harness.temporaryDirectory("upper")
        let result = try run(layers + ["--upper", upper, "--", "sh", "-c",
                                       "rm /etc/deletable; cat /etc/deletable 2>/dev/null || echo hidden"])
        #expect(result.stdout == "hidden\n", "\(result.stderr)")
        // overlayfs records the deletion as a 0:0 character device in upperdir.
        var info = stat()
        #expect(stat(upper + "/upper/etc/deletable", &info) == 0)
        #expect((info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0)
        #expect(FileManager.default.fileExists(atPath: harness.base + "/etc/deletable"))
        let persisted = try run(layers + ["--upper", upper, "--", "sh", "-c", "cat /etc/deletable 2>/dev/null || echo hidden"])
        #expect(persisted.stdout == "hidden\n")
    }

    /// overlayfs gives undefined results when two mounts share an upperdir
    /// (the kernel only warns): a second container on a busy --upper is
    /// refused, and the DIR is free again once the first is gone.
    @Test func aPersistentUpperServesOneContainerAtATime() throws {
        let upper = harness.temporaryDirectory("shared-upper")
        let first = try Container(rootfs + ["--upper", upper, "--", "sh", "-c", "echo ready; sleep 30"])
        defer { kill(first.pid, SIGKILL); _ = first.finish() }
        #expect(first.waitForOutput("ready"))
        let second = try run(rootfs + ["--upper", upper, "--", "true"])
        #expect(second.status == 125)
        #expect(second.stderr == "swinit-run: lock upper \(upper): in use by another running container\n")
        kill(first.pid, SIGTERM)
        _ = first.finish()
        let third = try run(rootfs + ["--upper", upper, "--", "true"])
        #expect(third.status == 0, "\(third.stderr)")
    }

    @Test func readOnlyRefusesWrites() throws {
        let result = try run(rootfs + ["--read-only", "--tmpfs", "/scratch", "--", "sh", "-c",
                                       "touch /x 2>&1; touch /scratch/ok && echo scratch-ok"])
        #expect(result.stdout.contains("Read-only file system"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("scratch-ok"))
    }

    @Test func readOnlyVolumeRefusesWrites() throws {
        let volume = harness.temporaryDirectory("rovolume")
        let result = try run(rootfs + ["-v", "\(volume):/data:ro", "--", "sh", "-c", "touch /data/x 2>&1; ls /data"])
        #expect(result.stdout.contains("Read-only file system"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: volume + "/x"))
    }

    @Test func volumeTargetSymlinkResolvesInsideTheRoot() throws {
        // The image's /etc/escape -> /var/tmp: resolved on the host it would
        // cover the host's /var/tmp (in the container's namespace, lost at
        // pivot_root); resolved inside the root it covers the image's /var/tmp.
        let upper = harness.temporaryDirectory("symlink-upper")
        try FileManager.default.createDirectory(atPath: upper + "/upper/etc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: upper + "/upper/etc/escape", withDestinationPath: "/var/tmp")
        let volume = harness.temporaryDirectory("volume")
        try "v".write(toFile: volume + "/marker", atomically: true, encoding: .utf8)
        let result = try run(rootfs + ["--upper", upper, "-v", "\(volume):/etc/escape", "--", "ls", "/var/tmp"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "marker\n")
    }

    /// `:ro` holds all the way down: a mount below the volume's source (here
    /// a tmpfs) is read-only, nosuid and nodev inside too, as in Docker 25.
    @Test func aReadOnlyVolumeIsReadOnlyBelowToo() throws {
        let volume = harness.temporaryDirectory("ro-submount")
        try FileManager.default.createDirectory(atPath: volume + "/sub", withIntermediateDirectories: true)
        try #require(Harness.shell(["mount", "-t", "tmpfs", "swinit-test", volume + "/sub"]) == 0)
        defer { _ = Harness.shell(["umount", volume + "/sub"]) }
        let result = try run(rootfs + ["-v", "\(volume):/v:ro", "--", "sh", "-c",
                                       "touch /v/sub/x 2>&1; grep ' /v/sub ' /proc/self/mountinfo"])
        #expect(result.stdout.contains("Read-only file system"), "\(result.stdout) \(result.stderr)")
        let options = result.stdout.split(separator: "\n").last.map { $0.split(separator: " ")[5] } ?? ""
        #expect(options.contains("ro") && options.contains("nosuid") && options.contains("nodev"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: volume + "/sub/x"))
    }

    /// The writable layer holds what the container made, a setuid-root file
    /// too: an existing --upper DIR is closed to other users (0700), and one
    /// that belongs to another user (who could reach or swap it) is refused.
    @Test func anUpperDirectoryIsRootOnly() throws {
        let open = harness.temporaryDirectory("open-upper")
        chmod(open, 0o755)
        let result = try run(rootfs + ["--upper", open, "--", "true"])
        #expect(result.status == 0, "\(result.stderr)")
        var info = stat()
        #expect(stat(open, &info) == 0 && info.st_mode & 0o777 == 0o700)
        let foreign = harness.temporaryDirectory("foreign-upper")
        chown(foreign, 65534, 65534)
        let refused = try run(rootfs + ["--upper", foreign, "--", "true"])
        #expect(refused.status == 125)
        #expect(refused.stderr == "swinit-run: upper \(foreign): belongs to uid 65534; it must be swinit-run's user's\n")
    }

    @Test func danglingSymlinkTargetIsRefused() throws {
        let upper = harness.temporaryDirectory("dangling-upper")
        try FileManager.default.createDirectory(atPath: upper + "/upper/etc", withIntermediateDirectories: true)
        let outside = harness.temporaryDirectory("outside")
        try FileManager.default.createSymbolicLink(atPath: upper + "/upper/etc/escape", withDestinationPath: outside)
        let result = try run(rootfs + ["--upper", upper, "--tmpfs", "/etc/escape", "--", "true"])
        #expect(result.status == 125)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test func environmentWorkdirAndUser() throws {
        let result = try run(rootfs + ["-e", "GREETING=hi", "-w", "/work/dir", "-u", "1000:1001", "--", "sh", "-c",
                                       "echo $GREETING; pwd; id -u; id -g"])
        #expect(result.stdout == "hi\n/work/dir\n1000\n1001\n", "\(result.stderr)")
    }

    /// mount(2) takes one page of options; more used to fail as a confusing
    /// ENOENT on a cut-off path.
    @Test func overlayOptionsOverAPageAreNamedAsSuch() throws {
        let many = (0..<200).flatMap { _ in ["--layer", harness.base] }
        let result = try run(many + ["--", "true"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("the overlay options are"), "\(result.stderr)")
        #expect(result.stderr.contains("use fewer or shorter layer paths"))
    }
}
