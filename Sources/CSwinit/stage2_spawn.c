// SPDX-License-Identifier: Apache-2.0
// The child side of swinit-run's clone3(CLONE_INTO_CGROUP) spawn of stage 2:
// between clone and execve only async-signal-safe calls, no Swift. A process
// born in a cgroup needs no move, and a move (writing cgroup.procs) waits out
// an RCU grace period in the kernel when no other move happened just before.
#define _GNU_SOURCE
#include "include/stage2_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/// struct clone_args of linux/sched.h (CLONE_ARGS_SIZE_VER2, 88 bytes).
struct swinit_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static void put(int fd, const char *text) {
    ssize_t ignored = write(fd, text, strlen(text));
    (void)ignored;
}

pid_t swinit_run_spawn_into_cgroup(int cgroup_fd, const char *path, char *const *argv, char *const *envp,
                                   const int *fd_map, int count, int report_fd) {
    struct swinit_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = 0x200000000ULL;  // CLONE_INTO_CGROUP
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid != 0) return (pid_t)pid;
    for (int i = 0; i < count; i++) {
        int from = fd_map[2 * i], to = fd_map[2 * i + 1];
        if (from == to) {
            fcntl(to, F_SETFD, 0);
        } else if (dup2(from, to) < 0) {
            _exit(125);
        }
    }
    // Raw rt_sigaction/rt_sigprocmask: libc refuses its reserved signals 32-33.
    struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; } dfl = {SIG_DFL, 0, 0, 0};
    for (int signo = 1; signo <= 64; signo++) {
        if (signo != SIGKILL && signo != SIGSTOP) syscall(SYS_rt_sigaction, signo, &dfl, NULL, sizeof(uint64_t));
    }
    uint64_t none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
    execve(path, argv, envp);
    int saved = errno;
    put(report_fd, "125 spawn stage 2 ");
    put(report_fd, path);
    put(report_fd, ": ");
    put(report_fd, strerror(saved));
    _exit(125);
}
