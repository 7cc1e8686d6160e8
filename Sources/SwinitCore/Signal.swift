// SPDX-License-Identifier: Apache-2.0
// Signal numbers and their names, both ways ("TERM", "SIGTERM", "15",
// "RTMIN+2"), as kill(1) and tini's -r/-p spell them.
import CSwinit

/// Signal names and numbers (see signal(7)).
public enum Signal {
    /// Highest signal number the kernel delivers (x86_64 and aarch64: 64).
    public static let highest: Int32 = 64

    /// libc's SIGRTMIN as bash and procps print it: 32 and 33 belong to the
    /// C library's threading internals, so "RTMIN" means 34.
    public static let realtimeMinimum: Int32 = 34

    /// The kernel-fault signals: raised by the kernel when the process itself
    /// faults. swinit forwards them only when a user sent them.
    public static func isFault(_ number: Int32) -> Bool {
        number == SIGSEGV || number == SIGBUS || number == SIGFPE || number == SIGILL
            || number == SIGABRT || number == SIGTRAP || number == SIGSYS
    }

    /// The job-control stop signals a terminal or a user sends.
    public static func isJobControlStop(_ number: Int32) -> Bool {
        number == SIGTSTP || number == SIGTTIN || number == SIGTTOU
    }

    /// Names of signals 1...31 without "SIG", indexed by number - 1 (x86_64/aarch64 numbering).
    static let names: [StaticString] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1",
        "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP",
        "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR",
        "SYS",
    ]

    /// Parses a signal given by name ("TERM", "SIGTERM", "term", "IOT", "POLL",
    /// "RTMIN+3", "SIGRTMAX-1") or by number ("15").
    ///
    /// - Parameter allowZero: accept "0" (used by `-r FROM:0`, "drop it").
    /// - Returns: the number, or nil when the text names no signal.
    public static func parse(_ text: UnsafePointer<CChar>, allowZero: Bool = false) -> Int32? {
        if let number = parseDecimal(text) {
            if number == 0 { return allowZero ? 0 : nil }
            return number >= 1 && number <= Int(highest) ? Int32(number) : nil
        }
        var name = text
        if hasPrefix(name, "SIG") { name += 3 }
        for (index, candidate) in names.enumerated() where equalsIgnoringCase(name, candidate) {
            return Int32(index + 1)
        }
        if equalsIgnoringCase(name, "IOT") { return SIGABRT }
        if equalsIgnoringCase(name, "POLL") { return SIGIO }
        if let offset = realtimeOffset(name, base: "RTMIN", sign: 1) {
            let number = realtimeMinimum + offset
            return number <= highest ? number : nil
        }
        if let offset = realtimeOffset(name, base: "RTMAX", sign: -1) {
            let number = highest + offset
            return number >= realtimeMinimum ? number : nil
        }
        return nil
    }

    /// Appends the C name ("SIGTERM", "SIGRTMIN+2", "SIG32") of `number`.
    public static func appendName(of number: Int32, to line: inout LineBuffer) {
        line.append("SIG")
        if number >= 1 && number <= Int32(names.count) {
            line.append(names[Int(number) - 1])
        } else if number >= realtimeMinimum && number <= highest {
            line.append("RTMIN")
            if number > realtimeMinimum {
                line.append("+")
                line.append(Int(number - realtimeMinimum))
            }
        } else {
            line.append(Int(number))
        }
    }

    /// "RTMIN", "RTMIN+N" (sign 1) or "RTMAX", "RTMAX-N" (sign -1) → the signed offset.
    private static func realtimeOffset(_ text: UnsafePointer<CChar>, base: StaticString, sign: Int32) -> Int32? {
        guard hasPrefix(text, base, ignoringCase: true) else { return nil }
        let rest = text + base.utf8CodeUnitCount
        if rest.pointee == 0 { return 0 }
        let expected = sign > 0 ? UInt8(ascii: "+") : UInt8(ascii: "-")
        guard UInt8(bitPattern: rest.pointee) == expected, let amount = parseDecimal(rest + 1) else { return nil }
        return amount <= Int(highest) ? sign * Int32(amount) : nil
    }
}

// MARK: - C-string helpers shared by the option parser

/// Parses a whole string of decimal digits (no sign, no spaces); nil otherwise
/// or when it exceeds 10 digits.
public func parseDecimal(_ text: UnsafePointer<CChar>) -> Int? {
    var cursor = text
    var value = 0
    var digits = 0
    while cursor.pointee != 0 {
        let byte = UInt8(bitPattern: cursor.pointee)
        guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"), digits < 10 else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
        digits += 1
        cursor += 1
    }
    return digits > 0 ? value : nil
}

/// Whether the C string `text` equals `literal` byte for byte.
public func equals(_ text: UnsafePointer<CChar>, _ literal: StaticString) -> Bool {
    compare(text, literal, ignoringCase: false, wholeString: true)
}

func equalsIgnoringCase(_ text: UnsafePointer<CChar>, _ literal: StaticString) -> Bool {
    compare(text, literal, ignoringCase: true, wholeString: true)
}

/// Whether the C string `text` starts with `literal`.
public func hasPrefix(_ text: UnsafePointer<CChar>, _ literal: StaticString, ignoringCase: Bool = false) -> Bool {
    compare(text, literal, ignoringCase: ignoringCase, wholeString: false)
}

private func compare(_ text: UnsafePointer<CChar>, _ literal: StaticString, ignoringCase: Bool, wholeString: Bool) -> Bool {
    literal.withUTF8Buffer { expected in
        for index in 0..<expected.count {
            var actual = UInt8(bitPattern: text[index])
            var wanted = expected[index]
            if actual == 0 { return false }
            if ignoringCase {
                actual = asciiUppercased(actual)
                wanted = asciiUppercased(wanted)
            }
            if actual != wanted { return false }
        }
        return !wholeString || text[expected.count] == 0
    }
}

private func asciiUppercased(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
}
