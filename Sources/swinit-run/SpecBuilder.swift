// SPDX-License-Identifier: Apache-2.0
// Validated options → ContainerSpec, resolving host paths (missing ones are
// runtime failures, exit 125, not usage errors).
import Glibc
import SwinitImage
import SwinitRuntime

enum SpecBuilder {
    static func build(from options: SwinitRun, _ checked: CheckedOptions, name: String, image: ImageRun? = nil)
        throws(RuntimeError)
        -> ContainerSpec
    {
        var spec = ContainerSpec()
        // -it copies the caller's terminal in raw mode; from a pipe that makes no sense (docker refuses it too).
        if options.tty && options.interactive && isatty(0) == 0 {
            throw RuntimeError("-it", reason: "the input device is not a TTY (without -t, -i passes a pipe through)")
        }
        let layers = image?.layers ?? options.rootfs.map { [$0] } ?? options.layers
        spec.layers = try layers.map { (layer) throws(RuntimeError) in try directory(layer, what: "layer") }
        if let upper = options.upper {
            // 0700: the writable layer holds whatever the container made, setuid files too.
            if mkdir(upper, 0o700) != 0 && errno != EEXIST { throw RuntimeError.syscall("mkdir upper", upper) }
            spec.upper = try directory(upper, what: "upper")
            try restrictToOwner(spec.upper!, what: "upper")
        }
        spec.readOnly = options.readOnly
        for var volume in checked.volumes {
            volume.source = try realPath(volume.source, what: "volume source")
            spec.volumes.append(volume)
        }
        spec.tmpfs = options.tmpfsPaths
        if let identity = image?.identity {
            (spec.uid, spec.gid) = (identity.uid, identity.gid)
        } else if let user = checked.user {
            (spec.uid, spec.gid) = user
        }
        spec.workdir = options.workdir ?? image?.process.workdir ?? "/"
        spec.hostname = options.hostname ?? String(name.prefix(63))
        spec.network = options.network
        spec.capabilities = checked.capabilities
        // The image's Env goes first, so -e wins per key (docker run).
        let imageEnvironment = image?.process.environment.filter { $0.contains("=") } ?? []
        spec.environment = ContainerEnvironment.build(imageEnvironment + options.environment, hostname: spec.hostname,
                                                      uid: spec.uid, host: hostEnvironment(options.environment),
                                                      home: image?.identity?.home ?? UserLookup(layers: spec.layers).home(of: spec.uid),
                                                      terminal: options.tty)
        spec.stopSignal = image?.process.stopSignal
        spec.stopTimeout = options.stopTimeout
        // An image whose entrypoint is an init runs it as PID 1 itself, as docker run does.
        let imageBringsInit = image?.process.runsOwnInit == true && options.initPath == nil
        if imageBringsInit && !options.initArguments.isEmpty {
            Diagnostics.print("swinit-run: warning: --init-arg ignored: the image's entrypoint "
                + "\(image?.process.command.first ?? "") is its own init (give --init to inject swinit)")
        }
        if !options.noInit && !imageBringsInit {
            guard let initPath = options.initPath ?? InitLocator.defaultInit() else {
                throw RuntimeError("find init", reason: "no swinit found; give --init PATH, set SWINIT_INIT, or use --no-init")
            }
            spec.initPath = try realPath(initPath, what: "init")
            spec.initArguments = options.initArguments
        }
        spec.command = image?.process.command ?? options.program
        spec.limits = checked.limits
        switch checked.seccomp {
        case .profile(let path):
            spec.seccompFilter = try SeccompFilter.compile(try SeccompProfileFile.load(path), capabilities: spec.capabilities)
        case .unconfined:
            spec.seccompFilter = nil
        case .dockerDefault:
            spec.seccompFilter = try SeccompFilter.compile(.dockerDefault, capabilities: spec.capabilities)
        }
        spec.interactive = options.interactive
        spec.tty = options.tty
        return spec
    }

    /// realpath(3) of `path`; throws "WHAT PATH: strerror".
    static func realPath(_ path: String, what: String) throws(RuntimeError) -> String {
        guard let resolved = realpath(path, nil) else { throw RuntimeError.syscall(what, path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func directory(_ path: String, what: String) throws(RuntimeError) -> String {
        let resolved = try realPath(path, what: what)
        var info = stat()
        guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw RuntimeError(what, path: path, errno: ENOTDIR)
        }
        return resolved
    }

    /// A directory that will hold what a container made (setuid-root files,
    /// device nodes) must be ours and closed to others, also when it existed
    /// before: one of another user's could be reached, or swapped, by them.
    /// - Throws: `RuntimeError` when it belongs to another user or chmod(2) fails.
    static func restrictToOwner(_ path: String, what: String) throws(RuntimeError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw RuntimeError.syscall(what, path) }
        guard info.st_uid == geteuid() else {
            throw RuntimeError(what, path: path, reason: "belongs to uid \(info.st_uid); it must be swinit-run's user's")
        }
        if info.st_mode & 0o077 != 0 && chmod(path, 0o700) != 0 { throw RuntimeError.syscall("chmod 0700", path) }
    }

    /// The host variables that bare `-e K` entries copy.
    static func hostEnvironment(_ entries: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for key in entries where !key.contains("=") {
            if let value = getenv(key) { result[key] = String(cString: value) }
        }
        return result
    }
}
