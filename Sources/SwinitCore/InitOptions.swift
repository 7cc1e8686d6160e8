// SPDX-License-Identifier: Apache-2.0
// swinit's command line and environment, parsed without allocation-heavy
// String work: argv stays a C array and the program's argv is handed to
// execvp(3) as a pointer into it.
import CSwinit

/// What the user asked swinit to do.
public struct InitOptions {
    /// Whether swinit registers as child subreaper (see PR_SET_CHILD_SUBREAPER in prctl(2)).
    public enum SubreaperMode: Equatable {
        /// Only when not PID 1 (the default).
        case automatic
        /// Always (`-s`, `SWINIT_SUBREAPER=1`, `TINI_SUBREAPER`).
        case on
        /// Never (`--no-subreaper`, `SWINIT_SUBREAPER=0`).
        case off
    }

    /// What to do after parsing.
    public enum Action: Equatable {
        case run, pause, version, help, license
    }

    /// Whose rules swinit follows, from the name it was started under
    /// (argv[0]'s basename), decided once while parsing.
    public enum Personality: Equatable {
        /// Its own name (or any other): process-group delivery by default.
        case swinit
        /// `docker-init`, `podman-init`, `tini`: the name an engine or an
        /// image gives tini, so tini's rules: signals go to the child only,
        /// to its group when `TINI_KILL_PROCESS_GROUP` is set (any value).
        case tini
        /// `pause`: the Kubernetes/podman pause process; pause mode with no
        /// arguments (as `-P`).
        case pause

        /// The personality for the program name `argv0` (a path or a name).
        public init(programName argv0: UnsafePointer<CChar>) {
            var base = argv0
            var cursor = argv0
            while cursor.pointee != 0 {
                if cursor.pointee == CChar(UInt8(ascii: "/")) { base = cursor + 1 }
                cursor += 1
            }
            if equals(base, "docker-init") || equals(base, "podman-init") || equals(base, "tini") {
                self = .tini
            } else if equals(base, "pause") {
                self = .pause
            } else {
                self = .swinit
            }
        }
    }

    /// The rules chosen by argv[0]'s name.
    public var personality = Personality.swinit
    /// What to do after parsing (`--help`, `--pause`, …).
    public var action = Action.run
    /// `-s`, `--no-subreaper`, `SWINIT_SUBREAPER`, `TINI_SUBREAPER`.
    public var subreaper = SubreaperMode.automatic
    /// Signal to receive when the parent dies (`-p`), 0 for none.
    public var parentDeathSignal: Int32 = 0
    /// Forward to the process group or the child only: the personality's
    /// default, then `TINI_KILL_PROCESS_GROUP`, `SWINIT_KILL_PROCESS_GROUP`,
    /// then `-g`/`-c` (the command line wins).
    public var forwardsToProcessGroup = true
    /// Exit codes reported as 0 (`-e`).
    public var remappedExitCodes = ExitCodeSet()
    /// `-r FROM:TO` rewrites of forwarded signals.
    public var rewrites = SignalRewrites()
    /// `-t`: seconds to wait for the rest of the group after the main child
    /// exits before SIGKILL; 0 sends SIGTERM and exits at once.
    public var gracePeriodSeconds = 0
    /// `-w`: log each orphan reaped at warning level.
    public var warnsOnReap = false
    /// Log verbosity (see `LogLevel`).
    public var verbosity = LogLevel.warning.rawValue
    /// Index in argv of the program to run (valid when `action == .run`).
    public var programIndex = 0
    /// Environment values that could not be used, each to be logged once
    /// as a warning (after the verbosity is known).
    public var environmentWarnings: [EnvironmentWarning] = []

    public init() {}
}

/// The set of exit codes `-e` maps to 0.
public struct ExitCodeSet {
    private var members = [Bool](repeating: false, count: 256)
    public init() {}
    /// Adds exit code `code` (0...255).
    public mutating func insert(_ code: Int32) { members[Int(code)] = true }
    /// Whether exit code `code` is remapped to 0.
    public func contains(_ code: Int32) -> Bool { code >= 0 && code <= 255 && members[Int(code)] }
}

/// A usage mistake: a message, optionally the offending argument, and the hint.
public struct UsageError: Error, @unchecked Sendable {
    /// What is wrong, ending in ": " when `argument` follows.
    public let message: StaticString
    /// The offending argument or value, from argv or the environment.
    public let argument: UnsafePointer<CChar>?

    public init(_ message: StaticString, _ argument: UnsafePointer<CChar>? = nil) {
        self.message = message
        self.argument = argument
    }
}

/// How swinit exits when it, not the child, decides the status.
public enum InitExitCode {
    /// swinit itself failed before the child ran (a syscall during set-up).
    public static let setupFailed: Int32 = 1
    /// Bad command line; nothing was started. (A bad environment value is only a warning.)
    public static let usage: Int32 = 2
    /// The program exists but could not be executed (EACCES, ENOEXEC, …), as in a shell.
    public static let cannotExecute: Int32 = 126
    /// The program was not found (ENOENT, ENOTDIR), as in a shell.
    public static let notFound: Int32 = 127
}

extension InitOptions {
    /// Reads argv[0]'s name (the personality), the environment, then the
    /// options (which win).
    ///
    /// - Parameters:
    ///   - argc: number of entries in `argv`.
    ///   - argv: the C argument vector, argv[0] being swinit itself.
    ///   - environment: looks up a variable (getenv(3) in production).
    /// - Throws: `UsageError` for an unknown option, a bad option value or a
    ///   missing program; never for the environment (see `environmentWarnings`).
    public static func parse(
        argc: Int32,
        argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
        environment: (StaticString) -> UnsafePointer<CChar>?
    ) throws(UsageError) -> InitOptions {
        var options = InitOptions()
        if argc > 0, let name = argv[0] { options.applyPersonality(Personality(programName: name)) }
        options.applyEnvironment(environment)
        var parser = ArgumentCursor(argc: Int(argc), argv: argv)
        try options.applyArguments(&parser)
        return options
    }

    /// The personality's defaults: tini's child-only delivery, or pause mode.
    mutating func applyPersonality(_ personality: Personality) {
        self.personality = personality
        switch personality {
        case .swinit: break
        case .tini: forwardsToProcessGroup = false
        case .pause: action = .pause
        }
    }

    /// Reads the environment leniently: it belongs to the application, so a
    /// value swinit cannot use is a warning (kept in `environmentWarnings`)
    /// and the value it would have had, never a reason not to run.
    mutating func applyEnvironment(_ environment: (StaticString) -> UnsafePointer<CChar>?) {
        if environment("TINI_SUBREAPER") != nil { subreaper = .on }
        if let value = environment("SWINIT_SUBREAPER") {
            if let on = parseSwitch(value) {
                subreaper = on ? .on : .off
            } else {
                warn("SWINIT_SUBREAPER", value, "is not 1 or 0", using: subreaper == .on ? "1" : "automatic")
            }
        }
        // tini's rule: present, whatever its value, means the process group.
        if environment("TINI_KILL_PROCESS_GROUP") != nil { forwardsToProcessGroup = true }
        if let value = environment("SWINIT_KILL_PROCESS_GROUP") {
            if let on = parseSwitch(value) {
                forwardsToProcessGroup = on
            } else {
                warn("SWINIT_KILL_PROCESS_GROUP", value, "is not 1 or 0", using: forwardsToProcessGroup ? "1" : "0")
            }
        }
        for name: StaticString in ["TINI_VERBOSITY", "SWINIT_VERBOSITY"] {
            guard let value = environment(name) else { continue }
            if let level = parseDecimal(value) {
                verbosity = level
            } else {
                warn(name, value, "is not a verbosity (0-3)", using: verbosity)
            }
        }
        if let value = environment("SWINIT_GRACE_PERIOD") {
            if let seconds = parseDecimal(value), seconds <= 1_000_000 {
                gracePeriodSeconds = seconds
            } else {
                warn("SWINIT_GRACE_PERIOD", value, "is not a whole number of seconds", using: gracePeriodSeconds)
            }
        }
    }

    private mutating func warn(_ name: StaticString, _ value: UnsafePointer<CChar>, _ problem: StaticString, using: Int) {
        environmentWarnings.append(EnvironmentWarning(name: name, value: value, problem: problem, used: .int(using)))
    }

    private mutating func warn(_ name: StaticString, _ value: UnsafePointer<CChar>, _ problem: StaticString, using: StaticString) {
        environmentWarnings.append(EnvironmentWarning(name: name, value: value, problem: problem, used: .text(using)))
    }

    mutating func applyArguments(_ parser: inout ArgumentCursor) throws(UsageError) {
        while let option = try parser.nextOption() {
            switch option {
            case .short(UInt8(ascii: "s")), .long("subreaper"): subreaper = .on
            case .long("no-subreaper"): subreaper = .off
            case .short(UInt8(ascii: "g")): forwardsToProcessGroup = true
            case .short(UInt8(ascii: "c")), .long("single-child"): forwardsToProcessGroup = false
            case .short(UInt8(ascii: "w")), .long("warn-on-reap"): warnsOnReap = true
            case .short(UInt8(ascii: "v")), .long("verbose"): verbosity += 1
            case .short(UInt8(ascii: "q")), .long("quiet"): verbosity -= 1
            case .short(UInt8(ascii: "P")), .long("pause"): action = .pause
            case .short(UInt8(ascii: "h")), .long("help"): action = .help; return
            case .short(UInt8(ascii: "l")), .long("license"): action = .license; return
            case .long("version"): action = .version; return
            case .short(UInt8(ascii: "p")), .long("pdeath-signal"):
                let value = try parser.value(for: option)
                guard let signal = Signal.parse(value) else { throw UsageError("unknown signal: ", value) }
                parentDeathSignal = signal
            case .short(UInt8(ascii: "e")), .long("remap-exit"):
                let value = try parser.value(for: option)
                guard let code = parseDecimal(value), code <= 255 else {
                    throw UsageError("exit code must be 0-255: ", value)
                }
                remappedExitCodes.insert(Int32(code))
            case .short(UInt8(ascii: "r")), .long("rewrite"):
                try parseRewrite(parser.value(for: option))
            case .short(UInt8(ascii: "t")), .long("grace-period"):
                let value = try parser.value(for: option)
                guard let seconds = parseDecimal(value), seconds <= 1_000_000 else {
                    throw UsageError("grace period must be a whole number of seconds: ", value)
                }
                gracePeriodSeconds = seconds
            case .short, .long:
                throw UsageError("unknown option: ", parser.current)
            }
            if parser.attachedValue != nil && !parser.valueTaken {
                throw UsageError("option takes no value: ", parser.current)
            }
        }
        if action == .pause {
            if parser.index < parser.argc { throw UsageError("pause mode runs no program, but one was given: ", parser.argument(parser.index)) }
            return
        }
        guard parser.index < parser.argc else { throw UsageError("missing program to run") }
        programIndex = parser.index
    }

    /// "FROM:TO" with names or numbers; TO may be 0 (drop).
    mutating func parseRewrite(_ value: UnsafePointer<CChar>) throws(UsageError) {
        guard let colon = strchr(value, Int32(UInt8(ascii: ":"))) else {
            throw UsageError("rewrite must be FROM:TO: ", value)
        }
        // Parse FROM from a bounded copy, so argv stays untouched.
        var from = [CChar](repeating: 0, count: 16)
        let length = value.distance(to: UnsafePointer(colon))
        guard length > 0 && length < from.count else { throw UsageError("rewrite must be FROM:TO: ", value) }
        for index in 0..<length { from[index] = value[index] }
        let source = from.withUnsafeBufferPointer { Signal.parse($0.baseAddress!) }
        // SIGKILL and SIGSTOP never reach swinit; SIGCHLD is its own.
        guard let source, let target = Signal.parse(colon + 1, allowZero: true),
              source != SIGCHLD, source != SIGKILL, source != SIGSTOP
        else {
            throw UsageError("rewrite names an unknown signal (or SIGCHLD, SIGKILL, SIGSTOP): ", value)
        }
        rewrites.rewrite(source, to: target)
    }
}

/// An environment value swinit could not use: "NAME=VALUE PROBLEM; using USED".
public struct EnvironmentWarning: @unchecked Sendable {
    /// The variable's name.
    public let name: StaticString
    /// The value as found in the environment.
    public let value: UnsafePointer<CChar>
    /// What is wrong with it ("is not 1 or 0").
    public let problem: StaticString
    /// The value used instead.
    public let used: LogPart

    /// Logs the warning: one line naming the variable, the value and the replacement.
    public func log() {
        Log.warning(.text(name), "=\"", .cString(value), "\" ", .text(problem), "; using ", used)
    }
}

/// A yes/no environment value: 1/0, true/false, yes/no (any case); empty
/// means yes, as a variable that is merely set does for tini. nil otherwise.
func parseSwitch(_ value: UnsafePointer<CChar>) -> Bool? {
    if equals(value, "0") || equalsIgnoringCase(value, "false") || equalsIgnoringCase(value, "no") { return false }
    if value.pointee == 0 || equals(value, "1") || equalsIgnoringCase(value, "true") || equalsIgnoringCase(value, "yes") {
        return true
    }
    return nil
}

/// An option as written: one short letter, or a long name.
enum ParsedOption: Equatable {
    case short(UInt8)
    case long(LongName)
}

/// A long option's name (the text after "--", before any "=").
struct LongName: Equatable, ExpressibleByStringLiteral {
    let text: StaticString
    let parsed: UnsafePointer<CChar>?

    init(stringLiteral text: StaticString) {
        self.text = text
        self.parsed = nil
    }

    init(parsed: UnsafePointer<CChar>) {
        self.text = ""
        self.parsed = parsed
    }

    /// A parsed name equals a literal when the argument, up to "=" or its end, spells it.
    static func == (lhs: LongName, rhs: LongName) -> Bool {
        guard let argument = lhs.parsed ?? rhs.parsed else { return false }
        let literal = lhs.parsed == nil ? lhs.text : rhs.text
        guard hasPrefix(argument, literal) else { return false }
        let next = argument[literal.utf8CodeUnitCount]
        return next == 0 || next == CChar(UInt8(ascii: "="))
    }
}

/// Walks argv getopt-style: short clusters ("-vvs", "-t5"), "--long" and
/// "--long=value", stopping at "--" or at the first argument that is not an
/// option (so `swinit sh -c 'x'` runs sh with its own -c).
struct ArgumentCursor {
    let argc: Int
    let argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    /// The next argument to look at.
    var index = 1
    /// Inside a short cluster: the next letter's address.
    var cluster: UnsafePointer<CChar>?
    /// The argument the last option came from (for messages).
    var current: UnsafePointer<CChar>?
    /// For "--name=value": the value.
    var attachedValue: UnsafePointer<CChar>?
    /// Whether the current option took its value.
    var valueTaken = false

    func argument(_ at: Int) -> UnsafePointer<CChar> { UnsafePointer(argv[at]!) }

    mutating func nextOption() throws(UsageError) -> ParsedOption? {
        attachedValue = nil
        valueTaken = false
        if let letters = cluster, letters.pointee != 0 {
            cluster = letters + 1
            return .short(UInt8(bitPattern: letters.pointee))
        }
        cluster = nil
        guard index < argc else { return nil }
        let text = argument(index)
        guard text[0] == CChar(UInt8(ascii: "-")), text[1] != 0 else { return nil }
        current = text
        index += 1
        if text[1] == CChar(UInt8(ascii: "-")) {
            if text[2] == 0 { return nil }  // "--": the program follows
            let name = text + 2
            if let equalsSign = strchr(name, Int32(UInt8(ascii: "="))) { attachedValue = UnsafePointer(equalsSign + 1) }
            return .long(LongName(parsed: name))
        }
        cluster = text + 2
        return .short(UInt8(bitPattern: text[1]))
    }

    /// The value of a value-taking option: the rest of a short cluster, the
    /// text after "=", or the next argument.
    mutating func value(for option: ParsedOption) throws(UsageError) -> UnsafePointer<CChar> {
        valueTaken = true
        if let attachedValue { return attachedValue }
        if let letters = cluster, letters.pointee != 0 {
            cluster = nil
            return letters
        }
        cluster = nil
        guard index < argc else { throw UsageError("option needs a value: ", current) }
        defer { index += 1 }
        return argument(index)
    }
}
