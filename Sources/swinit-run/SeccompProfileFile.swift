// SPDX-License-Identifier: Apache-2.0
// `--security-opt seccomp=PROFILE.json`: Docker's / the OCI runtime spec's
// seccomp profile format, read once with Foundation's JSON decoder into the
// typed SeccompProfile. Unknown keys (comment, flags, listenerPath…) are
// ignored; unknown syscall names are kept and skipped when the filter is
// built, as runc does, so one profile serves kernels old and new.
import FoundationEssentials
import Glibc
import SwinitRuntime

enum SeccompProfileFile {
    /// Reads and validates the profile at `path`.
    /// - Throws: `RuntimeError` "seccomp profile PATH: reason" (exit 125).
    static func load(_ path: String) throws(RuntimeError) -> SeccompProfile {
        // open(2) first, for the errno of a missing or unreadable file.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw RuntimeError.syscall("seccomp profile", path) }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        close(fd)
        // Docker's own profile is 20 KB; libseccomp needs minutes for a
        // profile of many megabytes, so a bound keeps a bad file one clear line.
        guard size <= Self.maximumSize else {
            throw RuntimeError("seccomp profile", path: path,
                               reason: "\(size) bytes: larger than \(Self.maximumSize >> 20) MiB, not a seccomp profile")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError("seccomp profile", path: path, reason: "cannot be read")
        }
        do {
            let file = try JSONDecoder().decode(FileProfile.self, from: data)
            return try file.profile()
        } catch let error as ProfileError {
            throw RuntimeError("seccomp profile", path: path, reason: error.message)
        } catch let error as DecodingError {
            throw RuntimeError("seccomp profile", path: path, reason: describe(error))
        } catch {
            throw RuntimeError("seccomp profile", path: path, reason: "not JSON")
        }
    }

    /// The largest profile file read (bytes).
    static let maximumSize = 1 << 20

    struct ProfileError: Error { var message: String }

    static func describe(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
        }
        func why(_ context: DecodingError.Context) -> String {
            String(context.debugDescription.lowercased().reversed().drop { $0 == "." }.reversed())
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let place = at(context.codingPath)
            return (place.isEmpty ? "the profile" : place) + ": " + why(context)
        case .keyNotFound(let key, let context):
            let place = at(context.codingPath)
            return (place.isEmpty ? "" : place + ": ") + "missing \(key.stringValue)"
        case .dataCorrupted(let context):
            let place = at(context.codingPath)
            if place.isEmpty { return "not valid JSON" }
            return (place.isEmpty ? "" : place + ": ") + why(context)
        @unknown default:
            return "not a seccomp profile"
        }
    }

    struct FileProfile: Decodable {
        var defaultAction: String
        var defaultErrnoRet: UInt32?
        var architectures: [String]?
        var archMap: [ArchitectureEntry]?
        var syscalls: [FileRule]?

        func profile() throws -> SeccompProfile {
            var profile = SeccompProfile(defaultAction: try action(defaultAction, errno: defaultErrnoRet, at: "defaultAction"))
            profile.architectures = architectures ?? []
            for entry in archMap ?? [] { profile.architectureMap[entry.architecture] = entry.subArchitectures ?? [] }
            for (index, rule) in (syscalls ?? []).enumerated() {
                profile.rules.append(try rule.rule(at: "syscalls[\(index)]"))
            }
            return profile
        }
    }

    struct ArchitectureEntry: Decodable {
        var architecture: String
        var subArchitectures: [String]?
    }

    struct FileRule: Decodable {
        var names: [String]?
        var name: String?
        var action: String
        var errnoRet: UInt32?
        var args: [FileArgument]?
        var includes: FileCondition?
        var excludes: FileCondition?

        func rule(at place: String) throws -> SeccompRule {
            let all = (names ?? []) + (name.map { [$0] } ?? [])
            guard !all.isEmpty else { throw ProfileError(message: "\(place): no syscall names") }
            var arguments: [SeccompArgument] = []
            for (index, argument) in (args ?? []).enumerated() {
                let position = "\(place).args[\(index)]"
                guard argument.index <= 5 else { throw ProfileError(message: "\(position): index \(argument.index) is not 0-5") }
                guard let op = SeccompOperator(rawValue: argument.op) else {
                    throw ProfileError(message: "\(position): unknown op \(argument.op)")
                }
                arguments.append(SeccompArgument(index: argument.index, value: argument.value.value,
                                                 valueTwo: argument.valueTwo?.value ?? 0, op: op))
            }
            return SeccompRule(names: all, action: try SeccompProfileFile.action(action, errno: errnoRet, at: "\(place).action"),
                               arguments: arguments,
                               includes: try includes?.condition(at: "\(place).includes") ?? SeccompCondition(),
                               excludes: try excludes?.condition(at: "\(place).excludes") ?? SeccompCondition())
        }
    }

    struct FileArgument: Decodable {
        var index: UInt32
        var value: Operand
        var valueTwo: Operand?
        var op: String
    }

    /// An argument value: a JSON number from 0 to 2^64-1 (a negative one is
    /// named as such instead of failing as "not valid JSON").
    struct Operand: Decodable {
        var value: UInt64

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(UInt64.self) {
                self.value = value
            } else if let number = try? container.decode(Int64.self) {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(number) is negative")
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number from 0 to 2^64-1")
            }
        }
    }

    struct FileCondition: Decodable {
        var caps: [String]?
        var arches: [String]?
        var minKernel: String?

        func condition(at place: String) throws -> SeccompCondition {
            var kernel: [Int]?
            if let minKernel {
                let parts = minKernel.split(separator: ".").map { Int($0) }
                guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil }) else {
                    throw ProfileError(message: "\(place).minKernel: expected MAJOR.MINOR, got \(minKernel)")
                }
                kernel = parts.compactMap { $0 } + (parts.count == 1 ? [0] : [])
            }
            return SeccompCondition(capabilities: caps ?? [], architectures: arches ?? [], minimumKernel: kernel)
        }
    }

    /// `SCMP_ACT_*` → SeccompAction; ERRNO and TRACE take `errno` (default EPERM).
    static func action(_ name: String, errno: UInt32?, at place: String) throws -> SeccompAction {
        switch name {
        case "SCMP_ACT_ALLOW": return .allow
        case "SCMP_ACT_ERRNO": return .errno(errno ?? UInt32(EPERM))
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return .killThread
        case "SCMP_ACT_KILL_PROCESS": return .killProcess
        case "SCMP_ACT_TRAP": return .trap
        case "SCMP_ACT_TRACE": return .trace(errno ?? UInt32(EPERM))
        case "SCMP_ACT_LOG": return .log
        case "SCMP_ACT_NOTIFY": throw ProfileError(message: "\(place): SCMP_ACT_NOTIFY needs a seccomp agent, which swinit-run does not have")
        default: throw ProfileError(message: "\(place): unknown action \(name)")
        }
    }
}
