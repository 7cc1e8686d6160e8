// SPDX-License-Identifier: Apache-2.0
// One line per message on stderr, prefixed "[swinit] LEVEL:", gated by verbosity.
// Built from parts and written with one write(2), so the init needs neither
// String formatting nor stdio (and never touches stdout).
import CSwinit

/// One piece of a log line.
public enum LogPart: ExpressibleByStringLiteral {
    case text(StaticString)
    case cString(UnsafePointer<CChar>)
    case int(Int)
    /// A signal number, printed by its C name ("SIGTERM").
    case signal(Int32)
    /// An errno, printed as strerror(3) text.
    case errno(Errno)

    public init(stringLiteral value: StaticString) { self = .text(value) }
}

/// Log levels; a message is written when its level is <= the verbosity.
public enum LogLevel: Int {
    case error = 0
    case warning = 1
    case info = 2
    case debug = 3
}

/// The init's logger (stderr only; see DESIGN.md "Log lines").
public enum Log {
    /// Messages above this level are dropped. Default 1 (errors and warnings);
    /// each `-v` adds one, each `-q` takes one away.
    nonisolated(unsafe) public static var verbosity = LogLevel.warning.rawValue

    /// Logs at error level (shown unless verbosity < 0): "[swinit] error: …".
    public static func error(_ parts: LogPart...) { write(.error, parts) }
    /// Logs at warning level (shown by default): "[swinit] warning: …".
    public static func warning(_ parts: LogPart...) { write(.warning, parts) }
    /// Logs at info level (`-v`): "[swinit] info: …".
    public static func info(_ parts: LogPart...) { write(.info, parts) }
    /// Logs at debug level (`-vv`): "[swinit] debug: …".
    public static func debug(_ parts: LogPart...) { write(.debug, parts) }

    /// Whether a message at `level` would be written.
    public static func isEnabled(_ level: LogLevel) -> Bool { level.rawValue <= verbosity }

    /// Set once a write to stderr failed with EPIPE: the reader is gone.
    /// Each further write would raise another SIGPIPE, which swinit reads
    /// from its signalfd like any other signal; so stop writing.
    nonisolated(unsafe) static var stderrIsGone = false

    static func write(_ level: LogLevel, _ parts: [LogPart]) {
        guard isEnabled(level), !stderrIsGone else { return }
        var line = LineBuffer()
        line.append("[swinit] ")
        switch level {
        case .error: line.append("error: ")
        case .warning: line.append("warning: ")
        case .info: line.append("info: ")
        case .debug: line.append("debug: ")
        }
        for part in parts { line.append(part: part) }
        line.append("\n")
        if line.write(to: 2) == Errno(EPIPE) { stderrIsGone = true }
    }
}

/// Bytes of one output line, written with a single write(2).
public struct LineBuffer {
    var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(160) }

    /// Appends a literal.
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a NUL-terminated C string, without the NUL.
    public mutating func append(cString: UnsafePointer<CChar>) {
        var cursor = cString
        while cursor.pointee != 0 {
            bytes.append(UInt8(bitPattern: cursor.pointee))
            cursor += 1
        }
    }

    /// Appends `value` in decimal.
    public mutating func append(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: [UInt8] = []
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes.append(contentsOf: digits.reversed())
    }

    /// Appends one log part (signals by C name, errnos as strerror(3) text).
    public mutating func append(part: LogPart) {
        switch part {
        case .text(let text): append(text)
        case .cString(let pointer): append(cString: pointer)
        case .int(let value): append(value)
        case .signal(let number): Signal.appendName(of: number, to: &self)
        case .errno(let errno): append(cString: errno.description)
        }
    }

    /// Writes the whole buffer to `fd`, looping over short writes (see write(2)).
    ///
    /// - Returns: nil when all was written, else the errno that stopped it
    ///   (there is nowhere to report it; callers may stop writing).
    @discardableResult
    public func write(to fd: Int32) -> Errno? {
        bytes.withUnsafeBytes { raw -> Errno? in
            var offset = 0
            while offset < raw.count {
                let written = unistd_write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if Errno.current == .interrupted { continue }
                    return Errno.current
                }
                offset += written
            }
            return nil
        }
    }
}

@inline(__always)
func unistd_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
