// SPDX-License-Identifier: Apache-2.0
// A set of signals as the kernel sees it: one 64-bit mask, bit N-1 for signal N.
import CSwinit

/// A signal set in the kernel's own layout (see rt_sigprocmask(2)). Unlike
/// libc's `sigset_t` helpers, it can hold signals 32 and 33.
public struct SignalSet: Equatable, Sendable {
    /// Bit N-1 set means signal N is in the set.
    public var mask: UInt64

    public init(mask: UInt64) { self.mask = mask }

    /// Every signal 1...64 (the kernel ignores SIGKILL and SIGSTOP in masks).
    public static let all = SignalSet(mask: ~0)

    /// Whether signal number `signal` (1...64) is in the set.
    public func contains(_ signal: Int32) -> Bool {
        signal >= 1 && signal <= Signal.highest && mask & (1 << UInt64(signal - 1)) != 0
    }

    /// Adds signal number `signal` (1...64).
    public mutating func insert(_ signal: Int32) { mask |= 1 << UInt64(signal - 1) }
    /// Removes signal number `signal` (1...64).
    public mutating func remove(_ signal: Int32) { mask &= ~(1 << UInt64(signal - 1)) }

    /// Blocks every signal in `self` for the calling thread, replacing the mask.
    ///
    /// - Returns: the mask that was in force before.
    /// - Throws: `SyscallError("rt_sigprocmask")`. Follows rt_sigprocmask(2).
    public func block() throws(SyscallError) -> SignalSet {
        var previous: UInt64 = 0
        guard swinit_rt_sigprocmask(SIG_SETMASK, mask, &previous) == 0 else {
            throw SyscallError("rt_sigprocmask")
        }
        return SignalSet(mask: previous)
    }
}
