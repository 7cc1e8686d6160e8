// SPDX-License-Identifier: Apache-2.0
// `swinit-run image load|ls|rm|prune`: the image store from the command line.
import ArgumentParser
import FoundationEssentials
import Glibc
import SwinitImage

/// `--store DIR`, shared by every command that reads or writes the store.
struct StoreOption: ParsableArguments {
    @Option(help: ArgumentHelp("The image store (default: $SWINIT_STORE, else /var/lib/swinit).", valueName: "DIR"))
    var store: String?

    var root: String { store ?? ImageStore.defaultRoot }
}

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Load, list and remove images in the store.",
        discussion: """
            The store keeps each layer once, unpacked in layers/<chain ID>/, shared \
            read-only by every image and container that uses it; images are small \
            records in images/, names in names.json.

            EXIT STATUS
              0     done
              64    bad command line
              125   the step failed (the line says which object and why); a failed \
            load leaves the store as it was
            """,
        subcommands: [Load.self, List.self, Remove.self, Prune.self, Commit.self, Save.self, Layers.self])

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the images in an OCI layout directory, an OCI archive or a docker-save archive.",
            discussion: """
                Archives may be plain tar or gzip- or zstd-compressed; layers may be \
                tar, tar+gzip or tar+zstd. Every blob's sha256 is checked before use. \
                Prints each name loaded (or the id of an image without a name).
                """)

        @OptionGroup var store: StoreOption

        @Argument(help: ArgumentHelp("The archive or layout directory.", valueName: "FILE|DIR"))
        var source: String

        func run() throws {
            try reportingErrors { () throws(ImageError) in
                // A missing source must not leave a new empty store behind.
                guard access(source, F_OK) == 0 else {
                    throw ImageError("image load", source, "stat: " + String(cString: strerror(errno)))
                }
                let store = try ImageStore(root: self.store.root, create: true)
                for image in try ImageLoader(store: store).load(source) {
                    let names = image.names.isEmpty ? ["\(image.id)"] : image.names
                    for name in names { standardOutput("Loaded image: \(name)") }
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the images: NAME:TAG, id, size, created.")

        @OptionGroup var store: StoreOption

        func run() throws {
            try reportingErrors { () throws(ImageError) in
                standardOutput(Self.row("NAME:TAG", "IMAGE ID", "SIZE", "CREATED"))
                guard access(store.root, F_OK) == 0 else { return }
                let store = try ImageStore(root: self.store.root, create: false)
                let names = try store.names()
                for record in try store.records() {
                    let named = names.filter { $0.value == record.id }.keys.sorted()
                    for name in named.isEmpty ? ["<none>"] : named {
                        standardOutput(Self.row(name, record.id.short, Self.size(record.size),
                                                Self.seconds(record.created ?? "-")))
                    }
                }
            }
        }

        static func row(_ name: String, _ id: String, _ size: String, _ created: String) -> String {
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
            return pad(name, 40) + pad(id, 14) + pad(size, 10) + created
        }

        /// An RFC 3339 time to the second: `…:29.123456789Z` → `…:29Z`, so
        /// the column has one width whichever tool wrote the config.
        static func seconds(_ time: String) -> String {
            guard let dot = time.firstIndex(of: "."), let end = time[dot...].firstIndex(where: { !$0.isNumber && $0 != "." })
            else { return time }
            return String(time[..<dot] + time[end...])
        }

        /// Bytes in Docker's units: kB, MB, GB (powers of 1000).
        static func size(_ bytes: Int64) -> String {
            let units = ["B", "kB", "MB", "GB", "TB"]
            var value = Double(bytes), unit = 0
            while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
            let tenths = Int((value * 10).rounded())
            return unit == 0 ? "\(bytes)B" : "\(tenths / 10).\(tenths % 10)\(units[unit])"
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove names; an image goes with its last name (its layers stay until prune).")

        @OptionGroup var store: StoreOption

        @Argument(help: ArgumentHelp("The names to remove.", valueName: "NAME[:TAG]"))
        var names: [String]

        func run() throws {
            try reportingErrors { () throws(ImageError) in
                let store = try ImageStore(root: self.store.root, create: false)
                for name in names {
                    let removed = try store.removeName(name)
                    standardOutput("Untagged: \(name)")
                    if let removed { standardOutput("Deleted: \(removed)") }
                }
            }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove images without a name and every layer no image uses (refused while containers run from the store).")

        @OptionGroup var store: StoreOption

        func run() throws {
            try reportingErrors { () throws(ImageError) in
                guard access(store.root, F_OK) == 0 else { return }
                let removed = try ImageStore(root: store.root, create: false).prune()
                standardOutput("Removed \(removed) layer\(removed == 1 ? "" : "s")")
            }
        }
    }
}

extension ImageCommand {
    struct Commit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an image of layer directories in overlay form (lowest first), as build steps leave them.",
            discussion: """
                Each directory is packed into a layer tar (overlay whiteouts become OCI \
                whiteouts, opaque directories .wh..wh..opq) and the image is loaded into \
                the store; layers it already has are not unpacked again. Prints the name.
                """)

        @OptionGroup var store: StoreOption

        @Option(name: .customLong("tag"), help: ArgumentHelp("A name for the image (repeatable).", valueName: "NAME[:TAG]"))
        var names: [String] = []

        @Option(help: ArgumentHelp("Entrypoint, as a JSON array.", valueName: "JSON"),
                transform: Self.stringArray)
        var entrypoint: [String]?

        @Option(help: ArgumentHelp("Cmd, as a JSON array.", valueName: "JSON"),
                transform: Self.stringArray)
        var cmd: [String]?

        @Option(name: [.customShort("e"), .customLong("env")], help: ArgumentHelp("Env entry (repeatable).", valueName: "K=V"))
        var environment: [String] = []

        @Option(help: ArgumentHelp("An exposed port (repeatable).", valueName: "PORT[/PROTO]"))
        var expose: [String] = []

        @Option(help: ArgumentHelp("StopSignal.", valueName: "SIG"))
        var stopSignal: String?

        @Option(help: ArgumentHelp("WorkingDir.", valueName: "DIR"))
        var workdir: String?

        @Option(help: ArgumentHelp("User.", valueName: "USER[:GROUP]"))
        var user: String?

        @Argument(help: ArgumentHelp("Layer directories, lowest first.", valueName: "DIR"))
        var layers: [String]

        func validate() throws {
            if let stopSignal, ImageProcess.signalNumber(stopSignal) == nil {
                throw ValidationError("--stop-signal '\(stopSignal)': unknown signal")
            }
            for name in names where !ImageName.isValid(name) {
                throw ValidationError("--tag '\(name)': not a valid NAME[:TAG]")
            }
        }

        /// A JSON array of strings, as Dockerfiles write ENTRYPOINT and CMD
        /// (the parser names the option and the value in its error).
        static func stringArray(_ text: String) throws -> [String] {
            guard let array = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
                throw ValidationError("expected a JSON array of strings")
            }
            return array
        }

        func run() throws {
            try reportingErrors { () throws(ImageError) in
                let process = ProcessDefaults(
                    User: user, Env: environment.isEmpty ? nil : environment, Entrypoint: entrypoint,
                    Cmd: cmd, WorkingDir: workdir,
                    ExposedPorts: expose.isEmpty ? nil : Dictionary(uniqueKeysWithValues: expose.map {
                        ($0.contains("/") ? $0 : $0 + "/tcp", ProcessDefaults.Empty())
                    }),
                    StopSignal: stopSignal)
                let store = try ImageStore(root: self.store.root, create: true)
                let image = try ImageExporter(store: store).commit(layers: layers, process: process, names: names)
                for name in image.names.isEmpty ? ["\(image.id)"] : image.names { standardOutput("Committed image: \(name)") }
            }
        }
    }

    struct Layers: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an image's layer directories in the store, lowest first (for --layer).")

        @OptionGroup var store: StoreOption

        @Argument(help: ArgumentHelp("The image.", valueName: "NAME[:TAG]"))
        var image: String

        func run() throws {
            try reportingErrors { () throws(ImageError) in
                let store = try ImageStore(root: self.store.root, create: false)
                for layer in try store.resolve(image).layers { standardOutput(store.layerPath(layer)) }
            }
        }
    }

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an image as an OCI layout directory and/or a docker-save archive (for docker load, podman load).")

        @OptionGroup var store: StoreOption

        @Option(help: ArgumentHelp("Write an OCI image layout here.", valueName: "DIR"))
        var oci: String?

        @Option(help: ArgumentHelp("Write a docker-save archive here.", valueName: "FILE"))
        var dockerArchive: String?

        @Argument(help: ArgumentHelp("The image.", valueName: "NAME[:TAG]"))
        var image: String

        func validate() throws {
            if oci == nil && dockerArchive == nil { throw ValidationError("give --oci DIR and/or --docker-archive FILE") }
        }

        func run() throws {
            try reportingErrors { () throws(ImageError) in
                let store = try ImageStore(root: self.store.root, create: false)
                try ImageExporter(store: store).save(image, layout: oci, dockerArchive: dockerArchive)
            }
        }
    }
}

/// Runs `body`; an `ImageError` becomes `swinit-run: LINE` and its exit status.
func reportingErrors(_ body: () throws(ImageError) -> Void) throws {
    do {
        try body()
    } catch {
        Diagnostics.print("swinit-run: \(error)")
        throw ExitCode(error.exitCode)
    }
}

/// One line on stdout with write(2), unbuffered like Diagnostics.
func standardOutput(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}
