// SPDX-License-Identifier: Apache-2.0
// The swinit-run command line, shaped like `docker run`.
import ArgumentParser
import Glibc
import SwinitImage
import SwinitRuntime

/// Which network namespace `--network` selects.
extension NetworkMode: ExpressibleByArgument {}

/// The command tree: `run` (the default, so `swinit-run [OPTIONS] COMMAND`
/// works as it always did) and `image`.
struct SwinitRunCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swinit-run", version: SwinitRun.version,
        subcommands: [SwinitRun.self, ImageCommand.self], defaultSubcommand: SwinitRun.self)
}

struct SwinitRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run COMMAND in a container on an overlay root, with swinit as PID 1.",
        usage: """
            swinit-run [OPTIONS] (--rootfs DIR | --layer DIR ...) [--] COMMAND [ARGS...]
              swinit-run [OPTIONS] --image NAME[:TAG] [--entrypoint PROG] [[--] ARGS...]
              swinit-run image load|ls|rm|prune ...
            """,
        discussion: """
            The root is an overlayfs of the read-only layers and a thin writable layer \
            on a tmpfs that is thrown away when the container ends (or DIR/upper with \
            --upper DIR). Volumes persist. The container gets its own PID, mount, UTS, \
            IPC and (unless --network host) network namespaces, a masked /proc, a nodev \
            /dev with the standard nodes, a read-only /sys, Docker's default \
            capabilities (an empty inheritable set) and no_new_privs. Signals sent to \
            swinit-run are forwarded to the container's PID 1. Docker's default seccomp \
            profile applies (see --security-opt), and the container gets its own cgroup \
            swinit/NAME and cgroup namespace, with --memory, --pids-limit and --cpus as limits.

            The container runs in a new session with a new session keyring: it has no \
            controlling terminal (it cannot type into yours with TIOCSTI or open your \
            /dev/tty) and does not possess the keys of your keyrings. Its stdout and stderr are \
            swinit-run's own, but never your terminal: where that is one, the container \
            writes to a pipe swinit-run copies from. Its stdin is /dev/null unless -i passes \
            yours through (a terminal, again through a pipe). With \
            -t it gets a pseudo-terminal from its own devpts as stdin, stdout and stderr \
            (swinit gives the command its foreground); with -it swinit-run puts your \
            terminal in raw mode, copies keys in and output out, passes on window size \
            changes and restores your terminal when the container ends, however it ends; \
            a small watcher process restores it even after a kill -9 of swinit-run.

            EXIT STATUS
              the container's status    0-255; 128+N when signal N killed its PID 1
              64                        bad command line
              125                       swinit-run itself failed (a step, a path, a reason)
              137                       also: the OOM killer ended it (--memory)
              126, 127                  the command could not be executed (from the init)

            ENVIRONMENT
              SWINIT_INIT       default init (else ../static/swinit or swinit beside
                                swinit-run, /usr/local/bin/swinit, PATH)
              SWINIT_RUN_STATE  state directory root (default /run/swinit-run)
              SWINIT_STORE      image store (default /var/lib/swinit)
              SWINIT_RUN_REEXEC 1: start stage 2 by re-executing swinit-run, as a host
                                with threads does, instead of forking it (tests, timing)
            """,
        version: SwinitRun.version)

    /// What `--version` prints.
    static let version = "swinit-run 0.1.0"

    @Option(name: .customLong("layer"), help: ArgumentHelp("Read-only lower layer (repeatable, lowest first).", valueName: "DIR"))
    var layers: [String] = []

    @Option(help: ArgumentHelp("The image as a single read-only layer.", valueName: "DIR"))
    var rootfs: String?

    @Option(help: ArgumentHelp("Run an image of the store: its layers, Entrypoint, Cmd, Env, WorkingDir, User, StopSignal.",
                               valueName: "NAME[:TAG]"))
    var image: String?

    @Option(help: ArgumentHelp("With --image: run PROG instead of the image's Entrypoint (its Cmd is dropped).",
                               valueName: "PROG"))
    var entrypoint: String?

    @OptionGroup var store: StoreOption

    @Option(help: ArgumentHelp("Keep the writable layer in DIR/upper (DIR/work is overlayfs' workdir).", valueName: "DIR"))
    var upper: String?

    @Flag(help: "The root is mounted read-only: writes anywhere but volumes and --tmpfs fail (EROFS).")
    var readOnly = false

    @Option(name: [.customShort("v"), .customLong("volume")],
            help: ArgumentHelp("Bind HOST at CONTAINER, nosuid and nodev (repeatable).", valueName: "HOST:CONTAINER[:ro]"))
    var volumes: [String] = []

    @Option(name: .customLong("tmpfs"), help: ArgumentHelp("Mount an empty tmpfs at PATH (repeatable).", valueName: "PATH"))
    var tmpfsPaths: [String] = []

    @Option(name: [.customShort("e"), .customLong("env")],
            help: ArgumentHelp("Set K=V, or copy K from this environment (repeatable).", valueName: "K=V"))
    var environment: [String] = []

    @Option(name: [.customShort("w"), .customLong("workdir")], help: ArgumentHelp("Working directory inside the container.", valueName: "DIR"))
    var workdir: String?

    @Option(help: ArgumentHelp("The container's hostname (default: its name).", valueName: "NAME"))
    var hostname: String?

    @Option(name: [.customShort("u"), .customLong("user")], help: ArgumentHelp("User and group to run as: numbers (names too with --image, from its /etc/passwd).",
                                 valueName: "UID[:GID]"))
    var user: String?

    @Option(help: ArgumentHelp("none: own network namespace with lo up; host: the host's.", valueName: "none|host"))
    var network: NetworkMode = .none

    @Option(name: .customLong("cap-add"), help: ArgumentHelp("Add a capability (NET_ADMIN, ALL; repeatable).", valueName: "CAP"))
    var capAdd: [String] = []

    @Option(name: .customLong("cap-drop"), help: ArgumentHelp("Drop a capability (CHOWN, ALL; repeatable).", valueName: "CAP"))
    var capDrop: [String] = []

    @Option(name: .customLong("init"), help: ArgumentHelp("The init to run as PID 1, bind-mounted read-only at /sbin/swinit.", valueName: "PATH"))
    var initPath: String?

    @Flag(help: "Run COMMAND itself as PID 1 (it must then reap orphans).")
    var noInit = false

    @Option(name: .customLong("init-arg"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Argument for the init, before -- (repeatable).", valueName: "ARG"))
    var initArguments: [String] = []

    @Option(name: .customLong("security-opt"),
            help: ArgumentHelp("seccomp=unconfined, or seccomp=PROFILE.json (Docker's format); default: Docker's default profile.",
                               valueName: "OPT"))
    var securityOptions: [String] = []

    // The limits take their value unconditionally, so `--pids-limit -1` is a
    // value (as under docker run), not an unknown option.
    @Option(name: [.customShort("m"), .customLong("memory")], parsing: .unconditional,
            help: ArgumentHelp("Memory limit of the container's cgroup (b, k, m, g; at least 6m; 0: no limit).",
                               valueName: "BYTES"))
    var memory: String?

    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: ArgumentHelp("Most tasks the container may hold (0 or -1: no limit).", valueName: "N"))
    var pidsLimit: Int64?

    @Option(name: .customLong("cpus"), parsing: .unconditional, help: ArgumentHelp("CPU time as a number of CPUs (1.5 = 150 ms per 100 ms).", valueName: "DECIMAL"))
    var cpus: String?

    @Option(name: .customLong("stop-timeout"), parsing: .unconditional,
            help: ArgumentHelp("Seconds from a SIGTERM to swinit-run (docker stop) to SIGKILL of the container (-1: never).",
                               valueName: "SECONDS"))
    var stopTimeout: Int32 = ContainerSpec.defaultStopTimeout

    @Option(help: ArgumentHelp("Name of the state directory (default: unique).", valueName: "NAME"))
    var name: String?

    @Flag(name: [.customShort("i"), .customLong("interactive")],
          help: "Keep stdin open to the container (without -i it reads /dev/null, as under docker run).")
    var interactive = false

    @Flag(name: [.customShort("t"), .customLong("tty")],
          help: "Give the container a terminal of its own (stdio and controlling terminal of PID 1).")
    var tty = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The program to run and its arguments.", valueName: "COMMAND"))
    var command: [String] = []

    /// The command without the `--` that may precede it.
    var program: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    mutating func validate() throws {
        // Passthrough capture swallows --help when it comes before any positional.
        if let first = command.first, first == "--help" || first == "-h" {
            throw CleanExit.helpRequest(self)
        }
        if command.first == "--version" { throw CleanExit.message(Self.version) }
    }

    /// Runs the container and exits with its status right here: a thrown
    /// `ExitCode` would send the parser through its error reporting on the
    /// way out, which costs the launch most of a millisecond.
    func run() throws {
        // Usage errors (ValidationError, exit 64) before anything touches the system.
        let checked = try CommandLineChecks.check(self)
        let status: Int32
        do {
            let name = self.name ?? Self.uniqueName()
            if let image {
                status = try ImageRun.launch(image, options: self, checked, name: name)
            } else {
                status = try Launcher.run(try SpecBuilder.build(from: self, checked, name: name), name: name)
            }
        } catch let error as RuntimeError {
            Diagnostics.print("swinit-run: \(error)")
            status = error.exitCode
        } catch let error as ImageError {
            Diagnostics.print("swinit-run: \(error)")
            status = error.exitCode
        }
        Glibc.exit(status)
    }

    /// `swinit-PID-RANDOM`, for a run without `--name`.
    static func uniqueName() -> String {
        "swinit-\(getpid())-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }
}

/// One-line messages to stderr with write(2): stdout belongs to the container.
enum Diagnostics {
    /// Writes `line` and a newline; control characters in it (an image's
    /// strings can carry any) are shown as `\xNN`, so a message can neither
    /// drive the terminal with escape sequences nor be cut short by a NUL.
    static func print(_ line: String) {
        var bytes: [UInt8] = []
        for byte in line.utf8 {
            if byte < 0x20 || byte == 0x7f {
                let hex = Array("0123456789abcdef".utf8)
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            } else {
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\n"))
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
