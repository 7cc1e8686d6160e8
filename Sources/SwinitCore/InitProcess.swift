// SPDX-License-Identifier: Apache-2.0
// Settings of swinit's own process: subreaper, parent-death signal, and
// letting go of the working directory and inherited descriptors.
import CSwinit

/// swinit's own process (see prctl(2)).
public enum InitProcess {
    /// Registers as child subreaper: orphans below us are reparented to us
    /// instead of to PID 1 (PR_SET_CHILD_SUBREAPER, see prctl(2)).
    ///
    /// - Throws: `SyscallError("prctl(PR_SET_CHILD_SUBREAPER)")`.
    public static func becomeSubreaper() throws(SyscallError) {
        guard swinit_prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 else {
            throw SyscallError("prctl(PR_SET_CHILD_SUBREAPER)")
        }
    }

    /// Asks for `signal` when our parent dies (PR_SET_PDEATHSIG, see prctl(2)).
    ///
    /// - Throws: `SyscallError("prctl(PR_SET_PDEATHSIG)")`.
    public static func setParentDeathSignal(_ signal: Int32) throws(SyscallError) {
        guard swinit_prctl(PR_SET_PDEATHSIG, UInt(signal)) == 0 else {
            throw SyscallError("prctl(PR_SET_PDEATHSIG)")
        }
    }

    /// After the child is started: `chdir("/")` so swinit never keeps a
    /// mount busy, and close every inherited descriptor above 2 except
    /// `keep` (the child has its own copies; catatonit does the same).
    /// Failures are logged, never fatal.
    public static func releaseInheritedResources(keeping keep: Int32) {
        if chdir("/") != 0 { Log.warning("chdir /: ", .errno(.current)) }
        let kept = UInt32(keep)
        if kept > 3 { closeRange(3, kept - 1) }
        closeRange(max(kept + 1, 3), UInt32.max)
    }

    private static func closeRange(_ first: UInt32, _ last: UInt32) {
        if swinit_close_range(first, last) != 0 { Log.debug("close_range: ", .errno(.current)) }
    }
}
