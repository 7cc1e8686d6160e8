// SPDX-License-Identifier: Apache-2.0
// Seccomp through the real binary: the escape attempts of swinit-probe run
// inside a busybox container, as root and as uid 1000, under Docker's default
// profile (refused), unconfined (let through: the tests can fail) and under
// user profiles in Docker's JSON format.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: namespaces and mounts"), .timeLimit(.minutes(2)))
struct SeccompTests {
    let harness = Harness.shared

    /// The probe's directory (.build/static) mounted read-only at /probe.
    var probe: [String] { ["-v", harness.packageRoot + "/.build/static:/probe:ro"] }

    /// Runs every attempt in one container and returns the probe's lines.
    func attempts(_ options: [String]) throws -> [String: String] {
        let commands = ["unshare-user-mount", "clone-user", "clone3", "io-uring", "userfaultfd", "perf-event",
                        "add-key", "personality", "sockets"]
        let script = commands.map { "/probe/swinit-probe \($0)" }.joined(separator: "; ")
        let result = try run(rootfs + probe + options + ["--", "sh", "-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        var lines: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            lines[String(line[..<colon])] = String(line[line.index(colon, offsetBy: 2)...])
        }
        return lines
    }

    static let denied = "Operation not permitted"

    @Test(arguments: [[], ["-u", "1000"]])
    func escapeAttemptsAreRefusedByTheDefaultProfile(user: [String]) throws {
        let lines = try attempts(user)
        for call in ["unshare(CLONE_NEWUSER)", "clone(CLONE_NEWUSER)", "io_uring_setup", "userfaultfd",
                     "perf_event_open", "add_key", "keyctl", "request_key", "personality(READ_IMPLIES_EXEC)",
                     "socket(AF_VSOCK)", "socket(AF_ALG)"] {
            #expect(lines[call] == Self.denied, "\(call): \(lines[call] ?? "no line")")
        }
        #expect(lines["mount tmpfs in the user namespace"] == nil)
        // clone3 fails ENOSYS, so a libc falls back to clone(2), as under Docker.
        #expect(lines["clone3"] == "Function not implemented")
        // The 32-bit socketcall(2) would carry socket(AF_VSOCK) past the filter.
        #expect(lines["socketcall(AF_VSOCK)"] == "Function not implemented")
        // What a program needs stays allowed.
        #expect(lines["personality(query)"] == "ok")
        #expect(lines["personality(PER_LINUX)"] == "ok")
        #expect(lines["socket(AF_INET)"] == "ok")
    }

    @Test(arguments: [[], ["-u", "1000"]])
    func unconfinedLetsTheSameAttemptsThrough(user: [String]) throws {
        let lines = try attempts(user + ["--security-opt", "seccomp=unconfined"])
        for call in ["unshare(CLONE_NEWUSER)", "mount tmpfs in the user namespace", "clone(CLONE_NEWUSER)",
                     "io_uring_setup", "userfaultfd", "add_key", "keyctl", "personality(READ_IMPLIES_EXEC)"] {
            #expect(lines[call] == "ok", "\(call): \(lines[call] ?? "no line")")
        }
        // The kernel's own answers now (perf_event_paranoid, no vsock or
        // crypto module), no longer the filter's EPERM/ENOSYS.
        for call in ["perf_event_open", "request_key", "socket(AF_VSOCK)", "socket(AF_ALG)", "socketcall(AF_VSOCK)"] {
            #expect(lines[call] != Self.denied && lines[call] != "Function not implemented" && lines[call] != nil,
                    "\(call): \(lines[call] ?? "no line")")
        }
        #expect(lines["clone3"] == "Invalid argument")
    }

    @Test func capAddSysAdminAllowsWhatDockerAllowsWithIt() throws {
        let lines = try attempts(["--cap-add", "SYS_ADMIN"])
        #expect(lines["unshare(CLONE_NEWUSER)"] == "ok")
        #expect(lines["clone(CLONE_NEWUSER)"] == "ok")
        #expect(lines["clone3"] == "Invalid argument")
        #expect(lines["perf_event_open"] != Self.denied)
        // Still refused: not conditional on a capability in Docker's profile.
        #expect(lines["io_uring_setup"] == Self.denied)
        #expect(lines["add_key"] == Self.denied)
    }

    @Test func theFilterIsInstalledAndTheInitRunsUnderIt() throws {
        let confined = try run(rootfs + ["--", "sh", "-c", "grep ^Seccomp: /proc/1/status /proc/self/status; sleep 0.1 & wait; echo done"])
        #expect(confined.stdout == "/proc/1/status:Seccomp:\t2\n/proc/self/status:Seccomp:\t2\ndone\n", "\(confined.stderr)")
        let free = try run(rootfs + ["--security-opt", "seccomp=unconfined", "--", "grep", "^Seccomp:", "/proc/self/status"])
        #expect(free.stdout == "Seccomp:\t0\n")
    }

    func profile(_ json: String) -> String {
        let path = harness.temporaryDirectory("profile") + "/profile.json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(json.utf8))
        return path
    }

    /// Docker's format: archMap, names, errnoRet, a name libseccomp does not
    /// know (skipped, as runc does) and an includes this container lacks.
    @Test func aJsonProfileDenyingMkdirIsObeyed() throws {
        let path = profile("""
            {"defaultAction": "SCMP_ACT_ALLOW",
             "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                         {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
             "syscalls": [
               {"names": ["mkdir", "mkdirat", "no_such_syscall_at_all"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
               {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
             ]}
            """)
        let result = try run(rootfs + ["--security-opt", "seccomp=\(path)", "--", "sh", "-c",
                                       "mkdir /made; echo mkdir=$?; touch /t && echo touch=$?"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "mkdir=1\ntouch=0\n")
        #expect(result.stderr.contains("Permission denied"), "\(result.stderr)")
    }

    @Test(arguments: [
        ("{", "not valid JSON"),
        (#"{"syscalls": []}"#, "missing defaultAction"),
        (#"{"defaultAction": "SCMP_ACT_NOPE"}"#, "defaultAction: unknown action SCMP_ACT_NOPE"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
         "syscalls[0].args[0]: index 9 is not 0-5"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}"#, "SCMP_ARCH_VAX: unknown architecture"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}"#,
         "syscalls[0].args[0].value: -1 is negative"),
        // Stage 2 could neither exec the init nor exit: refused up front instead of spinning.
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}"#,
         "the profile denies execve, so the container could not start"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["exit_group"], "action": "SCMP_ACT_KILL"}]}"#,
         "the profile denies exit_group"),
        // libseccomp would work for minutes on a many-megabyte profile: bounded, one line.
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}"# + String(repeating: " ", count: 2 << 20),
         "larger than 1 MiB, not a seccomp profile"),
    ])
    func aBadProfileIsOneClearErrorAndExit125(json: String, message: String) throws {
        let path = profile(json)
        let result = try run(rootfs + ["--security-opt", "seccomp=\(path)", "--", "true"])
        #expect(result.status == 125)
        #expect(result.stderr.hasPrefix("swinit-run: seccomp"), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test func aMissingProfileIsExit125AndATypoInTheOptionIsAUsageError() throws {
        let missing = try run(rootfs + ["--security-opt", "seccomp=/nonexistent/profile.json", "--", "true"])
        #expect(missing.status == 125)
        #expect(missing.stderr == "swinit-run: seccomp profile /nonexistent/profile.json: No such file or directory\n")
        let typo = try run(rootfs + ["--security-opt", "seccom=unconfined", "--", "true"])
        #expect(typo.status == 64, "\(typo.stderr)")
    }
}
