// SPDX-License-Identifier: Apache-2.0
// Stage 2: PID 1 of the new PID namespace, a fork of the single-threaded
// host (or, where the host has threads, a fresh exec of swinit-run). It
// builds the container in its own namespaces and ends by exec'ing the init,
// which thereby becomes PID 1.
import CSwinit
import Glibc

/// The container side of swinit-run.
public enum Stage2 {
    /// Runs stage 2 with the arguments that followed the marker (the re-exec'd
    /// stage 2). Never returns: it execs the container's PID 1, or reports
    /// over the pipe and exits.
    public static func main<S: Collection<String>>(arguments: S) -> Never {
        let spec: ContainerSpec
        do throws(RuntimeError) {
            spec = try ContainerSpec(stage2Arguments: arguments)
        } catch {
            closeHostDescriptorsOnExec()
            ErrorPipe.report(error)
            _exit(error.exitCode)
        }
        run(spec)
    }

    /// Builds the container described by `spec` and execs its PID 1, in a
    /// process that holds the host's descriptors at their fixed numbers:
    /// the re-exec'd stage 2, or the forked one (`Stage2Fork`). Never
    /// returns: on failure it reports over the pipe and exits.
    static func run(_ spec: ContainerSpec) -> Never {
        closeHostDescriptorsOnExec()
        let error: RuntimeError
        do throws(RuntimeError) {
            error = try build(spec)
        } catch let failure {
            error = failure
        }
        ErrorPipe.report(error)
        _exit(error.exitCode)
    }

    /// The sync pipe and the console socket must not leak into the container:
    /// CLOEXEC them first (a dup2 onto their numbers cleared the flag).
    static func closeHostDescriptorsOnExec() {
        _ = fcntl(ErrorPipe.stage2Descriptor, F_SETFD, FD_CLOEXEC)
        _ = fcntl(ConsoleSocket.stage2Descriptor, F_SETFD, FD_CLOEXEC)
    }

    /// The ordered steps of issue 3; returns only the exec's failure.
    static func build(_ spec: ContainerSpec) throws(RuntimeError) -> RuntimeError {
        // MARK: tie our life to swinit-run's
        try dieWithParent()
        // The host's "joined" pipe must not leak into the container either.
        if spec.cgroupNamespace { _ = fcntl(ContainerCgroup.joinDescriptor, F_SETFD, FD_CLOEXEC) }
        // MARK: namespaces; the mount tree private before any mount
        var namespaces: Namespaces = [.mount, .uts, .ipc]
        if spec.network == .none { namespaces.insert(.network) }
        try namespaces.unshare()
        try Mount.makeRootPrivate()
        if spec.network == .none {
            try check("bring up loopback", "lo") { swinit_run_loopback_up() }
        }
        umask(0o022)
        // MARK: root and mounts, all before pivot_root (mount points can still be made)
        let merged = try OverlayRoot.mount(layers: spec.layers, persistentUpper: spec.upper,
                                           stateDirectory: spec.stateDirectory)
        let root = try ContainerRoot(hostPath: merged)
        for volume in spec.volumes { try Volumes.bind(volume, in: root) }
        for path in spec.tmpfs { try Volumes.tmpfs(at: path, in: root) }
        try ProcFS.mount(in: root)
        try Devices.mount(in: root)
        try Sysfs.mount(in: root)
        if let initPath = spec.initPath {
            try root.bind(initPath, at: ContainerSpec.initMountPoint, as: .file,
                          flags: Mount.readOnly | Mount.nosuid | Mount.nodev)
        }
        let workdir = try root.openOrCreate(spec.workdir, as: .directory)
        close(workdir)
        try PivotRoot.pivot(to: root)
        if spec.readOnly {
            try Mount.mount(nil, on: "/", type: nil, flags: Mount.remount | Mount.bind | Mount.readOnly | Mount.nodev,
                            what: "remount read-only", name: "/")
        }
        try check("sethostname", spec.hostname) { sethostname(spec.hostname, spec.hostname.utf8.count) }
        // MARK: the container's cgroup (the host moved us meanwhile), then a cgroup namespace rooted there
        if spec.cgroupNamespace { try ContainerCgroup.awaitJoin() }
        // MARK: session: no controlling terminal but our own (-t), our own keyring
        try Session.start()
        try Session.joinNewKeyring()
        if spec.tty {
            try ConsoleSocket.attach(rows: spec.terminalRows, columns: spec.terminalColumns, uid: spec.uid)
        }
        // MARK: privileges: bounding set, user, process sets, no_new_privs
        try Capabilities.dropBoundingSet(keeping: spec.capabilities)
        try Identity.switchTo(uid: spec.uid, gid: spec.gid)
        try Capabilities.setProcessSets(to: spec.uid == 0 ? spec.capabilities : [])
        try check("chdir", spec.workdir) { chdir(spec.workdir) }
        // setuid(2) clears the parent-death signal, so set it again.
        try dieWithParent()
        try check("prctl(PR_SET_NO_NEW_PRIVS)") { swinit_prctl(PR_SET_NO_NEW_PRIVS, 1) }
        // MARK: seccomp last: from here on only what the init and the command need
        if let filter = spec.seccompFilter { try SeccompFilter.install(filter) }
        // MARK: exec PID 1
        ProcessImage.closeDescriptors(from: UInt32(ErrorPipe.stage2Descriptor + 1))
        ProcessImage.resetSignals()
        let failure = ProcessImage.exec(spec.pid1Arguments, environment: spec.environment)
        guard spec.initPath != nil else { return failure }
        // The init itself could not run: that is swinit-run's failure, not the command's.
        var error = failure
        error.exitCode = 125
        if error.errno == ENOENT { error.reason = "is the init statically linked?" }
        return error
    }

    /// PR_SET_PDEATHSIG(SIGKILL) (prctl(2)): kill -9 of swinit-run kills PID 1
    /// and with it the namespace. If swinit-run is already gone, the read end
    /// of the pipe is closed: poll reports POLLERR, and stage 2 gives up.
    static func dieWithParent() throws(RuntimeError) {
        try check("prctl(PR_SET_PDEATHSIG)") { swinit_prctl(PR_SET_PDEATHSIG, UInt(SIGKILL)) }
        var entry = pollfd(fd: ErrorPipe.stage2Descriptor, events: Int16(POLLOUT), revents: 0)
        if poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLERR) != 0 { _exit(125) }
    }
}
