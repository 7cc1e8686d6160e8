// SPDX-License-Identifier: Apache-2.0
// What swinit prints on stdout: --help, --version, --license. Nothing else
// ever goes to stdout (it belongs to the child).

/// swinit's version.
public let swinitVersion: StaticString = "0.1.0"

/// Texts for --help, --version and --license.
public enum Usage {
    /// `--version`. dockerd's init-version check parses "tini version V -
    /// git.COMMIT" (catatonit uses the same trick), so `docker info` accepts
    /// swinit as `init-path`. Deliberate; see README.
    /// - Returns: false when stdout could not take it (e.g. /dev/full).
    @discardableResult
    public static func printVersion() -> Bool {
        var line = LineBuffer()
        line.append("tini version ")
        line.append(swinitVersion)
        line.append(" - git.swinit\n")
        return line.write(to: 1) == nil
    }

    /// `--help`, on stdout.
    /// - Returns: false when stdout could not take it.
    @discardableResult
    public static func printHelp() -> Bool {
        var text = LineBuffer()
        text.append(help)
        return text.write(to: 1) == nil
    }

    /// `--license`, on stdout.
    /// - Returns: false when stdout could not take it.
    @discardableResult
    public static func printLicense() -> Bool {
        var text = LineBuffer()
        text.append(license)
        return text.write(to: 1) == nil
    }

    /// The usage error, with the hint, as one error line on stderr.
    public static func printUsageError(_ error: UsageError) {
        var line = LineBuffer()
        line.append("[swinit] error: ")
        line.append(error.message)
        if let argument = error.argument { line.append(cString: argument) }
        line.append(" (try 'swinit --help')\n")
        line.write(to: 2)
    }

    static let help: StaticString = """
        Usage: swinit [OPTIONS] [--] PROGRAM [ARGS...]
               swinit --pause [OPTIONS]

        A minimal init for containers: runs PROGRAM as its child, forwards the
        signals it receives to the child's process group (the child alone under
        tini's names, below), reaps orphaned processes so no zombie is left, and
        exits with the child's status (128+N when signal N killed it). Option parsing stops at "--" or at
        the first argument that is not an option.

        Options:
          -s, --subreaper         register as child subreaper (automatic when not PID 1)
              --no-subreaper      never register as subreaper
          -p, --pdeath-signal SIG signal swinit gets when its parent dies
          -g                      forward signals to the child's process group
                                  (the default, unless started as docker-init,
                                  podman-init or tini)
          -c, --single-child      forward signals to the child only, not its group
          -e, --remap-exit CODE   report exit code CODE (0-255) as 0; repeatable
          -r, --rewrite FROM:TO   forward signal FROM as TO (names or numbers;
                                  TO = 0 drops it); repeatable
          -t, --grace-period SECS when the child exits, SIGTERM the rest of its group
                                  (as PID 1: every process), wait up to SECS while
                                  reaping, then SIGKILL; default 0: SIGTERM and exit
          -w, --warn-on-reap      log every orphan reaped
          -v, --verbose           more logging (repeatable)
          -q, --quiet             less logging (repeatable)
          -P, --pause             run no program: reap orphans until SIGTERM/SIGINT
              --version           print the version (in the form docker expects)
          -h, --help              print this help
          -l, --license           print the license

        Started as docker-init, podman-init or tini (the names Docker and podman
        give their init), swinit follows tini's rules: signals go to the child
        only, unless TINI_KILL_PROCESS_GROUP is set. Started as pause, it runs in
        pause mode (-P) with no arguments.

        Environment (read before the options, which win; a value that cannot be
        used is a warning and the default, never an error):
          SWINIT_SUBREAPER=1|0    like -s / --no-subreaper (also true/false, yes/no);
                                  TINI_SUBREAPER (any value): like -s
          SWINIT_VERBOSITY=N      log level: 0 errors, 1 warnings (default), 2 info,
                                  3 debug (TINI_VERBOSITY: the same)
          SWINIT_GRACE_PERIOD=S   like -t S
          SWINIT_KILL_PROCESS_GROUP=1|0
                                  like -g / -c, under any name
          TINI_KILL_PROCESS_GROUP (any value): like -g

        Exit status: the child's; 128+N when signal N killed it; 2 for a bad
        command line; 1 when swinit could not set itself up; 126 when PROGRAM cannot be
        executed; 127 when it is not found.

        """

    static let license: StaticString = """
        swinit — a minimal init for containers.
        Licensed under the Apache License, Version 2.0; you may not use this
        file except in compliance with the License. You may obtain a copy at
        https://www.apache.org/licenses/LICENSE-2.0
        Distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF
        ANY KIND, either express or implied.

        """
}
