// SPDX-License-Identifier: Apache-2.0
// Stage 2 as a fork of swinit-run rather than a second start of it: the
// child goes on with the spec already in memory, so neither an exec of the
// 30 MB binary nor a second Swift start-up is paid (about 1 ms). Running
// Swift after fork is only sound in a single-threaded process (no lock can
// be held by a thread that does not exist in the child), so this is the
// path only while swinit-run has one thread; otherwise stage 2 is re-exec'd.
import CSwinit
import Glibc

enum Stage2Fork {
    /// Whether stage 2 may be forked: this process has exactly one thread
    /// (/proc/self/task holds one entry per thread besides `.` and `..`: its
    /// link count, proc(5)), and `SWINIT_RUN_REEXEC=1` does not ask for the
    /// re-exec path (the one a host with threads takes; tests and the
    /// benchmark use it to run and time that path too).
    static var isUsable: Bool {
        if let value = getenv("SWINIT_RUN_REEXEC"), String(cString: value) == "1" { return false }
        var status = stat()
        return stat("/proc/self/task", &status) == 0 && status.st_nlink == 3
    }

    /// Forks stage 2 (swinit_run_fork_stage2: clone3 into the cgroup2
    /// directory `cgroup` when given, else fork(2)), with `descriptors` at
    /// their fixed numbers in the child, which then runs `Stage2.run(spec)`
    /// and never returns here.
    /// - Parameter bornInCgroup: set when CLONE_INTO_CGROUP placed the child.
    /// - Returns: the child's pid.
    /// - Throws: `RuntimeError` naming the step (opening /dev/null, or the
    ///   fork itself) and its errno.
    static func start(_ spec: ContainerSpec, _ descriptors: Launcher.Stage2Descriptors, cgroup: String?,
                      bornInCgroup: inout Bool) throws(RuntimeError) -> pid_t {
        // Without the directory the child is forked where we are, and the host moves it.
        let directory = cgroup.map { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } ?? -1
        defer { if directory >= 0 { close(directory) } }
        var map: [Int32] = descriptors.pairs.flatMap { [$0.0, $0.1] }
        var null: Int32 = -1
        if descriptors.stdinIsNull {
            null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if null < 0 { throw RuntimeError.syscall("open", "/dev/null") }
            map += [null, 0]
        }
        defer { if null >= 0 { close(null) } }
        var born: Int32 = 0
        let pid = swinit_run_fork_stage2(directory, map, Int32(map.count / 2), &born)
        if pid == 0 { Stage2.run(spec) }
        if pid < 0 { throw RuntimeError.syscall("fork stage 2") }
        bornInCgroup = born != 0
        return pid
    }
}
