// SPDX-License-Identifier: Apache-2.0
// Starting a fresh copy of swinit-run for a hidden role (stage 2, the
// terminal guard): posix_spawn(3) of /proc/self/exe, so no Swift runs
// between fork and exec.
import Glibc

enum Reexec {
    /// posix_spawn(3)s `/proc/self/exe` with `arguments`, an empty
    /// environment, a signal mask of just `blocked` and every disposition
    /// SIG_DFL (signals 32 and 33 excepted: glibc leaves them ignored; stage 2
    /// resets them with the raw call). `fileActions` adds the child's dup2s
    /// and opens.
    /// - Returns: the child's pid, or posix_spawn's error number.
    static func spawn(_ arguments: [String], blocked: [Int32] = [],
                      fileActions: (inout posix_spawn_file_actions_t) -> Void) -> Result<pid_t, RuntimeError>
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        fileActions(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t(), all = sigset_t()
        sigemptyset(&mask)
        for signo in blocked { sigaddset(&mask, signo) }
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, &envp)
        if result != 0 { return .failure(RuntimeError("spawn " + arguments[1], path: "/proc/self/exe", errno: result)) }
        return .success(pid)
    }
}
