// SPDX-License-Identifier: Apache-2.0
// What `--image` adds to a run: the image's layers from the store, and its
// config made into a process the way `docker run` does (SwinitImage.ImageProcess).
import SwinitImage

/// The image side of a run, users already resolved against the image's files.
struct ImageRun {
    /// Layer directories in the store, lowest first (chain order).
    var layers: [String]
    var process: ImageProcess
    /// `-u`, else the image's `User`, as ids; nil for root.
    var identity: (uid: UInt32, gid: UInt32)?

    init(options: SwinitRun, record: ImageRecord, store: ImageStore) throws(ImageError) {
        layers = record.layers.map(store.layerPath)
        process = try ImageProcess(record.process, entrypoint: options.entrypoint, arguments: options.program)
        if let user = options.user ?? process.user {
            identity = try UserLookup(layers: layers).resolve(user)
        }
    }
}
