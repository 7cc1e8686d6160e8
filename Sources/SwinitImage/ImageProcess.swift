// SPDX-License-Identifier: Apache-2.0
// Config → process, as `docker run` does it: arguments replace Cmd,
// --entrypoint replaces Entrypoint and drops Cmd, Env comes before -e, an
// empty WorkingDir is `/`, StopSignal is what a stop sends.
import Glibc

/// The process an image runs, before the command line's own settings.
public struct ImageProcess: Equatable, Sendable {
    /// Entrypoint + Cmd (or their replacements).
    public var command: [String]
    /// The image's `Env`, `K=V`, to be applied before `-e`.
    public var environment: [String]
    /// Absolute working directory.
    public var workdir: String
    /// The image's `User` (`name`, `uid`, `name:group`, …), nil for root.
    public var user: String?
    /// The signal a stop sends (signal(7) number), nil for SIGTERM.
    public var stopSignal: Int32?
    /// The command is an init itself (swinit, tini, dumb-init, catatonit):
    /// it runs as PID 1 and nothing is injected, as under `docker run`.
    public var runsOwnInit: Bool

    /// Programs that are inits, by basename.
    public static let inits: Set<String> = ["swinit", "tini", "tini-static", "dumb-init", "catatonit", "docker-init"]

    /// - Parameters:
    ///   - entrypoint: `--entrypoint`: nil keeps the image's; "" clears it.
    ///   - arguments: the command line's arguments; they replace Cmd when given.
    /// - Throws: `ImageError` when there is nothing to run or StopSignal is unknown.
    public init(_ defaults: ProcessDefaults, entrypoint: String?, arguments: [String]) throws(ImageError) {
        let entry = entrypoint.map { $0.isEmpty ? [] : [$0] } ?? defaults.Entrypoint ?? []
        let cmd = !arguments.isEmpty ? arguments : (entrypoint != nil ? [] : defaults.Cmd ?? [])
        command = entry + cmd
        guard let program = command.first else {
            throw ImageError("image", nil, "the image has no Entrypoint or Cmd: give a command after --")
        }
        environment = defaults.Env ?? []
        let directory = defaults.WorkingDir ?? ""
        workdir = directory.isEmpty ? "/" : directory.hasPrefix("/") ? directory : "/" + directory
        user = defaults.User.flatMap { $0.isEmpty ? nil : $0 }
        if let name = defaults.StopSignal, !name.isEmpty {
            guard let number = Self.signalNumber(name) else {
                throw ImageError("image", "StopSignal \(name)", "unknown signal")
            }
            stopSignal = number
        }
        let base = program.split(separator: "/").last.map(String.init) ?? program
        runsOwnInit = Self.inits.contains(base)
    }

    /// `SIGQUIT`, `QUIT`, `3`, `SIGRTMIN+2` → the signal's number.
    public static func signalNumber(_ text: String) -> Int32? {
        let name = text.uppercased().hasPrefix("SIG") ? String(text.uppercased().dropFirst(3)) : text.uppercased()
        if let number = Int32(name), number > 0, number < 65 { return number }
        let table: [String: Int32] = [
            "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
            "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2,
            "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": SIGSTKFLT, "CHLD": SIGCHLD,
            "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG,
            "XCPU": SIGXCPU, "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH,
            "IO": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
        ]
        if let number = table[name] { return number }
        for (base, sign, limit) in [("RTMIN+", Int32(1), Int32(34)), ("RTMAX-", Int32(-1), Int32(64))]
        where name.hasPrefix(base) {
            guard let offset = Int32(name.dropFirst(base.count)), (0...30).contains(offset) else { return nil }
            return limit + sign * offset
        }
        return name == "RTMIN" ? 34 : name == "RTMAX" ? 64 : nil
    }
}
