// SPDX-License-Identifier: Apache-2.0
// The nginx image scripts/build-image.sh builds is a real image: in the store
// with Dockerfile.example's ENTRYPOINT, CMD, EXPOSE and STOPSIGNAL, run with
// --image (its own /swinit as PID 1), written as an OCI layout and a
// docker-save archive that podman and a private dockerd load and serve the
// same page from, with swinit as PID 1 and the same clean stop.
import Foundation
import Testing

/// Where the shared nginx build (NginxImage) puts its image.
enum BuiltImage {
    static var store: String { ProcessInfo.processInfo.environment["SWINIT_STORE"] ?? "/var/lib/swinit" }
    static var output: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["SWINIT_IMAGE_OUTPUT"] ?? (environment["SWINIT_IMAGE_CACHE"] ?? "/var/cache/swinit/nginx") + "/image"
    }
    static let name = "swinit-nginx:latest"
}

/// `curl -k https://127.0.0.1:8443/` inside the network namespace of `pid`.
func fetchPage(inNetworkOf pid: pid_t) -> (code: String, body: String) {
    let result = tool(["nsenter", "-t", "\(pid)", "-n", "curl", "-sk", "--max-time", "5", "-w", "\n%{http_code}",
                       "https://127.0.0.1:8443/"])
    guard let split = result.stdout.lastIndex(of: "\n") else { return ("", "") }
    return (String(result.stdout[result.stdout.index(after: split)...]), String(result.stdout[..<split]))
}

/// In NginxImageTests' suite, which is serialized: podman's overlay mounts
/// show in the host's mount table, which its other tests compare.
extension NginxImageTests {
    @Test func theImageCarriesTheDockerfilesConfigInEveryForm() throws {
        try image.require()
        let layout = BuiltImage.output + "/oci"
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))) as! [String: Any]
        let entry = (index["manifests"] as! [[String: Any]])[0]
        #expect((entry["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == BuiltImage.name)
        let manifest = try blob(layout, entry["digest"] as! String)
        let config = try blob(layout, (manifest["config"] as! [String: Any])["digest"] as! String)
        let process = config["config"] as! [String: Any]
        #expect(process["Entrypoint"] as? [String] == ["/swinit", "--"])
        #expect(process["Cmd"] as? [String] == ["nginx", "-g", "daemon off;"])
        #expect((process["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["8443/tcp"])
        #expect(process["StopSignal"] as? String == "SIGQUIT")
        #expect((manifest["layers"] as! [Any]).count == image.layers.count)
        // The docker-save archive names the same config.
        let listing = tool(["tar", "-xOf", BuiltImage.output + "/docker-archive.tar", "manifest.json"]).stdout
        let saved = try JSONSerialization.jsonObject(with: Data(listing.utf8)) as! [[String: Any]]
        #expect(saved[0]["RepoTags"] as? [String] == [BuiltImage.name])
        #expect(saved[0]["Config"] as? String == String(((manifest["config"] as! [String: Any])["digest"] as! String).dropFirst(7)) + ".json")
        // And the store has it, on layers of its own.
        let layers = tool([Harness.shared.swinitRun, "image", "layers", "--store", BuiltImage.store, BuiltImage.name])
        #expect(layers.status == 0 && layers.stdout.split(separator: "\n").count == image.layers.count)
    }

    /// Every cgroup directory below the v1 hierarchies' `parent` (podman's
    /// cgroupfs parent is libpod_parent, dockerd's docker).
    func engineCgroups(_ parent: String = "libpod_parent") -> Set<String> {
        let listing = tool(["sh", "-c", "find /sys/fs/cgroup/*/\(parent) -type d 2>/dev/null"]).stdout
        return Set(listing.split(separator: "\n").map(String.init))
    }

    /// Removes the cgroups that appeared since `before` and are empty now
    /// (rmdir(2) removes only empty ones: another engine's stay).
    func removeNewCgroups(_ parent: String, since before: Set<String>) {
        for path in engineCgroups(parent).subtracting(before).sorted(by: { $0.count > $1.count }) { rmdir(path) }
        #expect(engineCgroups(parent).subtracting(before).isEmpty, "cgroups left under \(parent)")
    }

    @Test func aPrivateDockerdLoadsTheArchiveAndServesTheSamePageWithSwinitAsPID1() throws {
        try image.require()
        try #require(installed("dockerd"), "dockerd is not installed (scripts/test.sh installs docker.io)")
        let root = Harness.shared.temporaryDirectory("dockerd")
        let socket = "unix://" + root + "/sock"
        let cgroupsBefore = engineCgroups("docker")
        // Its own data root, exec root, socket and containerd; no bridge, no iptables.
        let daemon = try spawnDaemon(["dockerd", "--data-root", root + "/data", "--exec-root", root + "/exec",
                                      "--pidfile", root + "/pid", "-H", socket, "--bridge", "none",
                                      "--iptables=false", "--ip-masq=false", "--storage-driver", "overlay2"],
                                     log: root + "/log")
        defer {
            stopDaemon(daemon, containerdPidFile: root + "/exec/containerd/containerd.pid")
            #expect(!hostMountTable().contains(root), "dockerd left a mount")
            removeNewCgroups("docker", since: cgroupsBefore)
            try? FileManager.default.removeItem(atPath: root)
        }
        let docker = ["docker", "-H", socket]
        let deadline = Date().addingTimeInterval(30)
        while tool(docker + ["info"]).status != 0 && Date() < deadline { usleep(200_000) }
        let load = tool(docker + ["load", "-q", "-i", BuiltImage.output + "/docker-archive.tar"])
        #expect(load.status == 0 && load.stdout.contains("swinit-nginx:latest"), "\(load.stdout)")
        let started = tool(docker + ["run", "-d", "--network", "none", BuiltImage.name])
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(started.status == 0 && !id.isEmpty, "docker run failed")
        defer { tool(docker + ["rm", "-f", id]) }
        let pid = pid_t(tool(docker + ["inspect", "--format", "{{.State.Pid}}", id]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        try #require(pid > 0)
        var fetched = (code: "", body: "")
        let served = Date().addingTimeInterval(20)
        while fetched.code != "200" && Date() < served {
            usleep(100_000)
            fetched = fetchPage(inNetworkOf: pid)
        }
        #expect(fetched.code == "200" && fetched.body == page)
        #expect(commandLine(pid) == "/swinit -- nginx -g daemon off; ", "\(commandLine(pid))")
        #expect(tool(docker + ["stop", "-t", "15", id]).status == 0)
        #expect(tool(docker + ["inspect", "--format", "{{.State.ExitCode}}", id]).stdout.hasPrefix("0"))
    }

    /// Starts a daemon with posix_spawn, output to `log`; returns its pid.
    func spawnDaemon(_ arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
        try #require(result == 0, "cannot start \(arguments[0])")
        return pid
    }

    /// SIGTERM to the daemon by pid, up to 20 s, then SIGKILL to it and to
    /// the containerd it started (by its pid file).
    func stopDaemon(_ pid: pid_t, containerdPidFile: String) {
        let containerd = pid_t(((try? String(contentsOfFile: containerdPidFile, encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        kill(pid, SIGTERM)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(20)
        while waitpid(pid, &status, WNOHANG) == 0 && Date() < deadline { usleep(100_000) }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        if containerd > 0 && kill(containerd, 0) == 0 {
            kill(containerd, SIGTERM)
            usleep(500_000)
            kill(containerd, SIGKILL)
        }
        #expect(containerd == 0 || kill(containerd, 0) != 0, "containerd \(containerd) still runs")
    }

    func blob(_ layout: String, _ digest: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.dropFirst(7)))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test func itRunsWithItsOwnSwinitAsPID1AndStopsCleanlyOnSigterm() throws {
        try image.require()
        let mounts = hostMountTable()
        let container = try Container(["--store", BuiltImage.store, "--image", BuiltImage.name])
        var pid1: pid_t = 0
        var fetched = (code: "", body: "")
        let deadline = Date().addingTimeInterval(20)
        repeat {
            usleep(50_000)
            let children = (try? String(contentsOfFile: "/proc/\(container.pid)/task/\(container.pid)/children", encoding: .utf8)) ?? ""
            pid1 = children.split(separator: " ").first.flatMap { pid_t($0) } ?? 0
            if pid1 > 0 { fetched = fetchPage(inNetworkOf: pid1) }
        } while fetched.code != "200" && container.process.isRunning && Date() < deadline
        #expect(fetched.code == "200" && fetched.body == page, "\(container.stderr)")
        #expect(commandLine(pid1) == "/swinit -- nginx -g daemon off; ", "\(commandLine(pid1))")
        #expect(statusField(pid1, "NSpid").last == "1")
        // SIGTERM becomes the image's STOPSIGNAL, SIGQUIT: nginx's graceful stop, status 0.
        kill(container.pid, SIGTERM)
        let result = container.finish(timeout: 20)
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        #expect(hostMountTable() == mounts)
    }

    @Test func podmanLoadsTheArchiveAndServesTheSamePageWithSwinitAsPID1() throws {
        try image.require()
        try #require(installed("podman"), "podman is not installed (scripts/test.sh installs it)")
        let root = Harness.shared.temporaryDirectory("podman")
        let podman = ["podman", "--root", root + "/root", "--runroot", root + "/run", "--storage-driver", "overlay",
                      "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", root + "/tmp"]
        let cgroupsBefore = engineCgroups()
        defer {
            tool(podman + ["rm", "-a", "-f"])
            tool(podman + ["rmi", "-a", "-f"])
            removeNewCgroups("libpod_parent", since: cgroupsBefore)
            #expect(!((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains(root),
                    "podman left a mount")
            try? FileManager.default.removeItem(atPath: root)
        }
        let load = tool(podman + ["load", "-q", "-i", BuiltImage.output + "/docker-archive.tar"])
        #expect(load.status == 0 && load.stdout.contains("swinit-nginx:latest"), "\(load.stdout)")
        // runc, and this host's limits given explicitly.
        let started = tool(podman + ["run", "-d", "--runtime", "runc", "--network", "none",
                                     "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", BuiltImage.name])
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(started.status == 0 && !id.isEmpty, "podman run failed")
        let pid = pid_t(tool(podman + ["inspect", "--format", "{{.State.Pid}}", id]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        try #require(pid > 0)
        var fetched = (code: "", body: "")
        let deadline = Date().addingTimeInterval(20)
        while fetched.code != "200" && Date() < deadline {
            usleep(100_000)
            fetched = fetchPage(inNetworkOf: pid)
        }
        #expect(fetched.code == "200" && fetched.body == page)
        #expect(commandLine(pid) == "/swinit -- nginx -g daemon off; ", "\(commandLine(pid))")
        #expect(statusField(pid, "NSpid").last == "1")
        // podman stop sends the image's STOPSIGNAL (SIGQUIT) to /swinit, which forwards it to nginx.
        #expect(tool(podman + ["stop", "-t", "15", id]).status == 0)
        #expect(tool(podman + ["inspect", "--format", "{{.State.ExitCode}}", id]).stdout.hasPrefix("0"))
    }
}
