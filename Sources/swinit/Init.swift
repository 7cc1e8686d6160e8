// SPDX-License-Identifier: Apache-2.0
// swinit: the init. The story, top to bottom: block signals → parse →
// configure this process → spawn the child → loop (reap, forward) → exit.
import CSwinit
#if canImport(SwinitCore)
import SwinitCore
#endif

func swinitMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    // MARK: 1. Block every signal before anything else
    // PID 1 gets no default action for signals it has no handler for, and a
    // signal that arrives before the signalfd exists must not be lost: so
    // block them all (32 and 33 included) first and read them from one fd.
    let inheritedMask: SignalSet
    let signals: SignalFD
    do {
        inheritedMask = try SignalSet.all.block()
        signals = try SignalFD(for: .all)
    } catch {
        Log.error(.text(error.call), ": ", .errno(error.errno))
        return InitExitCode.setupFailed
    }
    // An inherited SIG_IGN on SIGCHLD would make the kernel reap our
    // children itself and lose the child's status.
    let sigchldWasIgnored = swinit_reset_sigchld() == 1

    // MARK: 2. Parse the command line and environment
    let options: InitOptions
    do throws(UsageError) {
        options = try InitOptions.parse(argc: argc, argv: argv, environment: lookUpEnvironment)
    } catch {
        Usage.printUsageError(error)
        return InitExitCode.usage
    }
    // A text that could not be written (stdout full or closed) is a failure.
    switch options.action {
    case .help: return Usage.printHelp() ? 0 : InitExitCode.setupFailed
    case .version: return Usage.printVersion() ? 0 : InitExitCode.setupFailed
    case .license: return Usage.printLicense() ? 0 : InitExitCode.setupFailed
    case .run, .pause: break
    }
    Log.verbosity = options.verbosity
    for warning in options.environmentWarnings { warning.log() }

    // MARK: 3. Configure this process: subreaper, parent-death signal
    let isPID1 = getpid() == 1
    var isSubreaper = false
    if options.subreaper == .on || (options.subreaper == .automatic && !isPID1) {
        do {
            try InitProcess.becomeSubreaper()
            isSubreaper = true
            Log.debug("registered as child subreaper")
        } catch {
            Log.warning(.text(error.call), ": ", .errno(error.errno))
        }
    }
    if !isPID1 && !isSubreaper {
        Log.warning("not PID 1 and not a subreaper: orphans will be reaped by the real init, not by swinit")
    }
    if options.parentDeathSignal != 0 {
        do {
            try InitProcess.setParentDeathSignal(options.parentDeathSignal)
        } catch {
            Log.warning(.text(error.call), ": ", .errno(error.errno))
        }
    }

    if options.action == .pause {
        Log.info("pause mode: reaping orphans until SIGTERM or SIGINT")
        InitProcess.releaseInheritedResources(keeping: signals.fd)
        return Supervisor.pause(signals, reaper: Reaper(mainChild: -1, reportsStops: false, warnsOnReap: options.warnsOnReap))
    }

    // MARK: 4. Spawn the main child
    let program = argv + options.programIndex
    // The child takes the terminal only if we are the foreground job.
    let takesTerminal = swinit_owns_foreground() == 1
    let child: pid_t
    do {
        child = try Child.spawn(
            program, inheritedMask: inheritedMask, sigchldWasIgnored: sigchldWasIgnored, takesTerminal: takesTerminal)
    } catch {
        switch error {
        case .exec(let errno): Log.error("exec ", .cString(program.pointee!), ": ", .errno(errno))
        case .spawn(let errno): Log.error("fork: ", .errno(errno))
        }
        return error.exitCode
    }
    Log.info("started ", .cString(program.pointee!), " as pid ", .int(Int(child)))
    InitProcess.releaseInheritedResources(keeping: signals.fd)

    // MARK: 5. Loop: reap and forward until the child ends, then exit with its status
    let supervisor = Supervisor(
        forwarder: Forwarder(child: child, forwardsToProcessGroup: options.forwardsToProcessGroup, rewrites: options.rewrites),
        reaper: Reaper(mainChild: child, reportsStops: !isPID1, warnsOnReap: options.warnsOnReap),
        isPID1: isPID1,
        gracePeriodSeconds: options.gracePeriodSeconds,
        remappedExitCodes: options.remappedExitCodes,
        childHasTerminal: takesTerminal)
    return supervisor.run(signals)
}

/// getenv(3) for a literal name (StaticString literals are NUL-terminated).
func lookUpEnvironment(_ name: StaticString) -> UnsafePointer<CChar>? {
    UnsafeRawPointer(name.utf8Start).withMemoryRebound(to: CChar.self, capacity: name.utf8CodeUnitCount + 1) {
        UnsafePointer(getenv($0))
    }
}

#if hasFeature(Embedded)
// Embedded Swift has no CommandLine: the static build compiles this file
// without main.swift and takes argc/argv from the C entry point.
@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    swinitMain(argc, argv)
}
#endif
