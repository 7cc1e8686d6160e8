// SPDX-License-Identifier: Apache-2.0
// The init's pure logic, in process: signal names, option parsing, wait statuses.
import Testing

@testable import SwinitCore
#if canImport(Glibc)
import Glibc
#endif

/// Parses `arguments` (argv[0] = `name` added) with the given environment.
func parse(_ arguments: [String], environment: [String: String] = [:], name: String = "swinit") throws(UsageError) -> InitOptions {
    let all = [name] + arguments
    var pointers = all.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    var lookup: [String: UnsafeMutablePointer<CChar>] = [:]
    for (name, value) in environment { lookup[name] = strdup(value) }
    defer { lookup.values.forEach { free($0) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer throws(UsageError) in
        try InitOptions.parse(argc: Int32(all.count), argv: buffer.baseAddress!) { name in
            lookup[name.description].map { UnsafePointer($0) }
        }
    }
}

@Suite("option parsing")
struct OptionParsingTests {
    @Test("signal names, with or without SIG, any case, numbers, real-time offsets")
    func signalNames() {
        let cases: [(String, Int32?)] = [
            ("TERM", SIGTERM), ("SIGTERM", SIGTERM), ("term", SIGTERM), ("15", 15), ("1", 1), ("64", 64),
            ("IOT", SIGABRT), ("SIGPOLL", SIGIO), ("RTMIN", 34), ("RTMIN+2", 36), ("SIGRTMAX", 64), ("RTMAX-1", 63),
            ("0", nil), ("65", nil), ("FOO", nil), ("SIG", nil), ("", nil), ("RTMIN+40", nil), ("RTMIN-1", nil), ("-1", nil),
        ]
        for (text, expected) in cases {
            #expect(text.withCString { Signal.parse($0) } == expected, "\(text)")
        }
        #expect("0".withCString { Signal.parse($0, allowZero: true) } == 0)
    }

    @Test("signal numbers print as their C names")
    func signalDisplayNames() {
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGSYS, "SIGSYS"), (34, "SIGRTMIN"), (36, "SIGRTMIN+2"), (32, "SIG32")] {
            var line = LineBuffer()
            Signal.appendName(of: number, to: &line)
            #expect(String(decoding: line.bytes, as: UTF8.self) == name)
        }
    }

    @Test("defaults: automatic subreaper, group delivery, no grace period, warnings")
    func defaults() throws {
        let options = try parse(["prog"])
        #expect(options.action == .run)
        #expect(options.subreaper == .automatic)
        #expect(options.forwardsToProcessGroup)
        #expect(options.gracePeriodSeconds == 0)
        #expect(options.verbosity == 1)
        #expect(options.programIndex == 1)
    }

    @Test("every option lands in its field")
    func everyOption() throws {
        let options = try parse(["-s", "-c", "-w", "-vvq", "-p", "HUP", "-e", "3", "-r", "USR1:USR2", "-t", "7", "--", "prog", "-s"])
        #expect(options.subreaper == .on)
        #expect(!options.forwardsToProcessGroup)
        #expect(options.warnsOnReap)
        #expect(options.verbosity == 2)
        #expect(options.parentDeathSignal == SIGHUP)
        #expect(options.remappedExitCodes.contains(3) && !options.remappedExitCodes.contains(4))
        #expect(options.rewrites.map(SIGUSR1) == SIGUSR2 && options.rewrites.map(SIGUSR2) == SIGUSR2)
        #expect(options.gracePeriodSeconds == 7)
        #expect(options.programIndex == 14)
    }

    @Test("the environment is read first and options win")
    func environmentThenOptions() throws {
        let fromEnvironment = try parse(["prog"], environment: ["SWINIT_GRACE_PERIOD": "4", "SWINIT_VERBOSITY": "3", "SWINIT_SUBREAPER": "0"])
        #expect(fromEnvironment.gracePeriodSeconds == 4 && fromEnvironment.verbosity == 3 && fromEnvironment.subreaper == .off)
        let overridden = try parse(["-t", "2", "-s", "prog"], environment: ["SWINIT_GRACE_PERIOD": "4", "SWINIT_SUBREAPER": "0"])
        #expect(overridden.gracePeriodSeconds == 2 && overridden.subreaper == .on)
        #expect(try parse(["prog"], environment: ["TINI_SUBREAPER": ""]).subreaper == .on)
    }

    @Test("argv[0]'s basename chooses the personality")
    func personalities() throws {
        let cases: [(String, InitOptions.Personality)] = [
            ("/sbin/docker-init", .tini), ("/run/podman-init", .tini), ("docker-init", .tini), ("/usr/bin/tini", .tini),
            ("/pause", .pause), ("pause", .pause), ("/swinit", .swinit), ("docker-init2", .swinit), ("/pause/swinit", .swinit),
            ("", .swinit),
        ]
        for (name, expected) in cases {
            #expect(name.withCString { InitOptions.Personality(programName: $0) } == expected, "\(name)")
        }
        #expect(try parse([], name: "/pause").action == .pause)
        #expect(try !parse(["prog"], name: "/sbin/docker-init").forwardsToProcessGroup)
    }

    @Test("process-group delivery: name, then TINI_KILL_PROCESS_GROUP, SWINIT_KILL_PROCESS_GROUP, then -g/-c")
    func processGroupPrecedence() throws {
        let engine = "/sbin/docker-init"
        #expect(try parse(["prog"], environment: ["TINI_KILL_PROCESS_GROUP": "no"], name: engine).forwardsToProcessGroup)
        #expect(try parse(["prog"], environment: ["SWINIT_KILL_PROCESS_GROUP": "yes"], name: engine).forwardsToProcessGroup)
        #expect(try !parse(["prog"], environment: ["SWINIT_KILL_PROCESS_GROUP": "0"]).forwardsToProcessGroup)
        #expect(try !parse(["prog"], environment: ["TINI_KILL_PROCESS_GROUP": "1", "SWINIT_KILL_PROCESS_GROUP": "false"], name: engine)
            .forwardsToProcessGroup)
        #expect(try parse(["-g", "prog"], environment: ["SWINIT_KILL_PROCESS_GROUP": "0"]).forwardsToProcessGroup)
        #expect(try !parse(["-c", "prog"], environment: ["SWINIT_KILL_PROCESS_GROUP": "1"], name: engine).forwardsToProcessGroup)
    }

    @Test("bad environment values become warnings and defaults, never errors")
    func lenientEnvironment() throws {
        let options = try parse(["prog"], environment: [
            "TINI_VERBOSITY": "abc", "SWINIT_GRACE_PERIOD": "5s", "SWINIT_SUBREAPER": "maybe", "SWINIT_KILL_PROCESS_GROUP": "x",
        ])
        #expect(options.verbosity == 1 && options.gracePeriodSeconds == 0 && options.subreaper == .automatic)
        #expect(options.forwardsToProcessGroup)
        #expect(options.environmentWarnings.map { $0.name.description }.sorted()
            == ["SWINIT_GRACE_PERIOD", "SWINIT_KILL_PROCESS_GROUP", "SWINIT_SUBREAPER", "TINI_VERBOSITY"])
        // A good SWINIT_VERBOSITY still applies after a bad TINI_VERBOSITY.
        #expect(try parse(["prog"], environment: ["TINI_VERBOSITY": "x", "SWINIT_VERBOSITY": "3"]).verbosity == 3)
        // Command-line values stay strict.
        #expect(throws: UsageError.self) { try parse(["-t", "5s", "prog"]) }
    }

    @Test("--help, --version, --license and --pause")
    func actions() throws {
        #expect(try parse(["--help", "--bogus"]).action == .help)
        #expect(try parse(["--version"]).action == .version)
        #expect(try parse(["-l"]).action == .license)
        #expect(try parse(["-P"]).action == .pause)
    }

    @Test("exit statuses map like a shell's")
    func waitStatuses() {
        #expect(WaitStatus.exited(0).shellExitCode == 0)
        #expect(WaitStatus.exited(255).shellExitCode == 255)
        #expect(WaitStatus.signaled(SIGKILL).shellExitCode == 137)
        #expect(WaitStatus.signaled(64).shellExitCode == 192)
        #expect(WaitStatus(raw: 3 << 8) == .exited(3))
        #expect(WaitStatus(raw: SIGTERM) == .signaled(SIGTERM))
        #expect(WaitStatus(raw: (SIGTSTP << 8) | 0x7f) == .stopped(SIGTSTP))
    }

    @Test("forwarding rules: SIGCHLD never, kernel faults never, user-sent faults yes, 0 drops")
    func forwardingRules() {
        var rewrites = SignalRewrites()
        rewrites.rewrite(SIGHUP, to: 0)
        let forwarder = Forwarder(child: 100, forwardsToProcessGroup: true, rewrites: rewrites)
        #expect(forwarder.target == -100)
        #expect(forwarder.outgoingSignal(for: SignalInfo(signal: SIGCHLD, code: 0, sender: 1)) == nil)
        #expect(forwarder.outgoingSignal(for: SignalInfo(signal: SIGSEGV, code: 1, sender: 0)) == nil)
        #expect(forwarder.outgoingSignal(for: SignalInfo(signal: SIGSEGV, code: Int32(SI_USER), sender: 1)) == SIGSEGV)
        #expect(forwarder.outgoingSignal(for: SignalInfo(signal: SIGHUP, code: Int32(SI_USER), sender: 1)) == nil)
        #expect(forwarder.outgoingSignal(for: SignalInfo(signal: SIGTERM, code: Int32(SI_USER), sender: 1)) == SIGTERM)
        #expect(Forwarder(child: 100, forwardsToProcessGroup: false, rewrites: rewrites).target == 100)
    }
}
