// SPDX-License-Identifier: Apache-2.0
// The container's user: setgroups(2), setgid(2), setuid(2).
import Glibc

enum Identity {
    /// Switches to `uid`/`gid` with `gid` as the only supplementary group.
    /// For uid 0 only the groups are reset. Switching to a non-zero uid
    /// empties the permitted and effective capability sets (capabilities(7)).
    static func switchTo(uid: UInt32, gid: UInt32) throws(RuntimeError) {
        var groups = [gid_t(gid)]
        try check("setgroups", String(gid)) { setgroups(1, &groups) }
        try check("setgid", String(gid)) { setgid(gid) }
        if uid != 0 { try check("setuid", String(uid)) { setuid(uid) } }
    }
}
