// SPDX-License-Identifier: Apache-2.0
// Usage checks (exit 64): everything that is wrong with the command line
// itself, before anything touches the system.
import ArgumentParser
import SwinitRuntime

/// The run command's values that needed parsing beyond the parser's own,
/// parsed once by `CommandLineChecks.check` and kept in their types.
struct CheckedOptions {
    var volumes: [Volume] = []
    /// `-u UID[:GID]` (numeric; with `--image` a name is resolved later, in the image).
    var user: (uid: UInt32, gid: UInt32)?
    /// Capability numbers: Docker's default set with `--cap-add`/`--cap-drop` applied.
    var capabilities: [Int32] = []
    var limits = ResourceLimits()
    var seccomp = CommandLineChecks.SeccompChoice.dockerDefault
}

enum CommandLineChecks {
    /// Checks the whole command line before anything touches the system and
    /// returns the values it parsed on the way.
    /// - Throws: `ValidationError` (exit 64) for the first thing wrong with it.
    static func check(_ options: SwinitRun) throws -> CheckedOptions {
        var checked = CheckedOptions()
        // Passthrough capture also takes unknown options; an option-looking
        // COMMAND without a `--` before it is a typo, not a program. It is
        // named first: every later complaint would follow from it.
        if options.command.first != "--", let first = options.command.first, first.hasPrefix("-") {
            throw ValidationError("unknown option '\(first)'")
        }
        if options.rootfs == nil && options.layers.isEmpty && options.image == nil {
            // `swinit-run --store DIR image ls`: the subcommand must come first.
            if let word = options.program.first, word == "image" || word == "images" {
                throw ValidationError("'\(word)' after options is taken as a COMMAND; "
                    + "subcommands come first: swinit-run image \(options.program.dropFirst().first ?? "ls") [--store DIR]")
            }
            throw ValidationError("give the image with --image NAME, --rootfs DIR or --layer DIR")
        }
        if [options.rootfs != nil, !options.layers.isEmpty, options.image != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--image, --rootfs and --layer exclude each other")
        }
        if options.image == nil && options.entrypoint != nil { throw ValidationError("--entrypoint needs --image") }
        if options.program.isEmpty && options.image == nil { throw ValidationError("missing COMMAND") }
        if options.readOnly && options.upper != nil {
            throw ValidationError("--read-only and --upper exclude each other")
        }
        if options.noInit && (options.initPath != nil || !options.initArguments.isEmpty) {
            throw ValidationError("--no-init excludes --init and --init-arg")
        }
        checked.volumes = try options.volumes.map(parseVolume)
        for path in options.tmpfsPaths { try checkContainerPath(path, option: "--tmpfs") }
        if let workdir = options.workdir, !workdir.hasPrefix("/") {
            throw ValidationError("--workdir \(workdir): must be an absolute path")
        }
        // With --image, names are looked up in the image's /etc/passwd at run time.
        if let user = options.user, options.image == nil { checked.user = try parseUser(user) }
        for entry in options.environment where entry.isEmpty || entry.hasPrefix("=") || entry.contains("\0") {
            throw ValidationError("--env '\(entry)': expected K=V or K")
        }
        if let hostname = options.hostname, hostname.isEmpty || hostname.utf8.count > 64 {
            throw ValidationError("--hostname '\(hostname)': must be 1 to 64 bytes")
        }
        if let name = options.name, !isValidName(name) {
            throw ValidationError("--name '\(name)': use 1 to 64 of A-Z a-z 0-9 _ . - (not starting with . or -)")
        }
        checked.seccomp = try parseSeccomp(options.securityOptions)
        checked.limits = try parseLimits(options)
        if options.stopTimeout < -1 {
            throw ValidationError("--stop-timeout \(options.stopTimeout): expected seconds, or -1 for never")
        }
        do {
            checked.capabilities = try Capabilities.resolve(add: options.capAdd, drop: options.capDrop)
        } catch {
            throw ValidationError("\(error)")
        }
        return checked
    }

    /// What `--security-opt` asks of seccomp.
    enum SeccompChoice: Equatable {
        case dockerDefault
        case unconfined
        case profile(String)
    }

    /// `--security-opt seccomp=unconfined|PATH` (also Docker's older
    /// `seccomp:`); `no-new-privileges[=true]` is accepted (always on).
    static func parseSeccomp(_ options: [String]) throws -> SeccompChoice {
        var choice = SeccompChoice.dockerDefault
        for option in options {
            if ["no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"].contains(option) { continue }
            guard option.hasPrefix("seccomp=") || option.hasPrefix("seccomp:") else {
                throw ValidationError("--security-opt '\(option)': expected seccomp=unconfined or seccomp=PROFILE.json")
            }
            let value = String(option.dropFirst(8))
            guard !value.isEmpty else { throw ValidationError("--security-opt '\(option)': missing profile") }
            choice = value == "unconfined" ? .unconfined : .profile(value)
        }
        return choice
    }

    /// `--memory`, `--pids-limit`, `--cpus` with Docker's units and bounds.
    static func parseLimits(_ options: SwinitRun) throws -> ResourceLimits {
        var limits = ResourceLimits()
        if let text = options.memory {
            guard let bytes = ResourceLimits.parseMemory(text) else {
                throw ValidationError("--memory '\(text)': expected a number with an optional unit b, k, m or g")
            }
            guard bytes == 0 || bytes >= ResourceLimits.minimumMemory else {
                throw ValidationError("--memory '\(text)': the minimum memory limit is 6m")
            }
            if bytes > 0 { limits.memoryBytes = bytes }
        }
        if let pids = options.pidsLimit, pids > 0 { limits.pids = pids }
        if let text = options.cpus {
            let online = ResourceLimits.onlineCPUs
            guard let nano = ResourceLimits.parseCPUs(text) else {
                throw ValidationError("--cpus '\(text)': expected a decimal number of CPUs, at most 9 decimals")
            }
            guard nano == 0 || (nano >= 10_000_000 && nano <= UInt64(online) * 1_000_000_000) else {
                throw ValidationError("--cpus '\(text)': the range is 0.01 to \(online) (CPUs online)")
            }
            if nano > 0 { limits.nanoCPUs = nano }
        }
        return limits
    }

    /// `HOST:CONTAINER[:ro|rw]` with absolute paths.
    static func parseVolume(_ text: String) throws -> Volume {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && (parts[2] == "ro" || parts[2] == "rw")) else {
            throw ValidationError("--volume '\(text)': expected HOST:CONTAINER[:ro]")
        }
        guard parts[0].hasPrefix("/") else { throw ValidationError("--volume '\(text)': HOST must be an absolute path") }
        try checkContainerPath(parts[1], option: "--volume")
        return Volume(source: parts[0], target: parts[1], readOnly: parts.count == 3 && parts[2] == "ro")
    }

    /// A mount target: absolute, not `/`, not inside /proc, /dev or /sys
    /// (the container's own mounts there would hide it or it would unmask them).
    static func checkContainerPath(_ path: String, option: String) throws {
        guard path.hasPrefix("/") else { throw ValidationError("\(option) '\(path)': must be an absolute path") }
        // `.` names the directory it is in: /./proc is /proc, /. is /.
        let components = path.split(separator: "/").filter { $0 != "." }
        guard let first = components.first else { throw ValidationError("\(option) '\(path)': cannot mount over /") }
        if ["proc", "dev", "sys"].contains(first) {
            throw ValidationError("\(option) '\(path)': inside /\(first), which the container mounts itself")
        }
        if components.contains("..") { throw ValidationError("\(option) '\(path)': must not contain ..") }
    }

    /// `UID[:GID]`, numeric; GID defaults to UID.
    static func parseUser(_ text: String) throws -> (uid: UInt32, gid: UInt32) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let uid = UInt32(parts[0]), uid != UInt32.max else {
            throw ValidationError("--user '\(text)': expected numeric UID[:GID]")
        }
        guard parts.count == 2 else { return (uid, uid) }
        guard let gid = UInt32(parts[1]), gid != UInt32.max else {
            throw ValidationError("--user '\(text)': expected numeric UID[:GID]")
        }
        return (uid, gid)
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64, first != UInt8(ascii: "."),
              first != UInt8(ascii: "-") else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
    }
}
