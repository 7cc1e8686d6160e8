// SPDX-License-Identifier: Apache-2.0
// What `--image` adds to a run: the image's layers from the store, and its
// config made into a process the way `docker run` does (SwinitImage.ImageProcess).
import SwinitImage
import SwinitRuntime

/// The image side of a run, users already resolved against the image's files.
struct ImageRun {
    /// Layer directories in the store, lowest first (chain order).
    var layers: [String]
    var process: ImageProcess
    /// `-u`, else the image's `User`, as ids; nil for root.
    var identity: (uid: UInt32, gid: UInt32, home: String?)?

    /// Runs `reference` with `options` and returns the exit status, holding
    /// the store's run lock (shared) for the container's life, so `image
    /// prune` never removes its layers. A runtime failure is reported here.
    static func launch(_ reference: String, options: SwinitRun, _ checked: CheckedOptions, name: String)
        throws(ImageError) -> Int32
    {
        let store = try ImageStore(root: options.store.root, create: false)
        return try store.whileRunning { () throws(ImageError) -> Int32 in
            let image = try ImageRun(options: options, record: try store.resolve(reference), store: store)
            do throws(RuntimeError) {
                return try Launcher.run(SpecBuilder.build(from: options, checked, name: name, image: image), name: name)
            } catch {
                Diagnostics.print("swinit-run: \(error)")
                return error.exitCode
            }
        }
    }

    init(options: SwinitRun, record: ImageRecord, store: ImageStore) throws(ImageError) {
        layers = record.layers.map(store.layerPath)
        process = try ImageProcess(record.process, entrypoint: options.entrypoint, arguments: options.program)
        if let user = options.user ?? process.user {
            identity = try UserLookup(layers: layers).resolve(user)
        }
    }
}
