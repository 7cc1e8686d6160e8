// SPDX-License-Identifier: Apache-2.0
// swinit-run's spawn of stage 2 straight into the container's cgroup2
// directory: clone3(2) with CLONE_INTO_CGROUP, which posix_spawn cannot do.
// A process born in a cgroup needs no move, and a move (a write to
// cgroup.procs) waits out an RCU grace period in the kernel when no other
// move happened just before. Like glibc's posix_spawn, the child shares the
// parent's memory (CLONE_VM | CLONE_VFORK: no page tables copied, the parent
// sleeps until the exec) and runs on a stack of its own, entered through a
// few instructions of assembly (x86_64); elsewhere a plain fork-style clone3.
// Between clone and execve only raw system calls, no Swift.
#define _GNU_SOURCE
#include "include/stage2_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/// struct clone_args of linux/sched.h (CLONE_ARGS_SIZE_VER2, 88 bytes).
struct swinit_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

struct child_plan {
    const char *path;
    char *const *argv;
    char *const *envp;
    const int *fd_map;
    int count;
    int exec_errno;  // written by the child when the exec fails (shared memory)
};

/// Default dispositions for all 64 signals and an empty mask. Raw
/// rt_sigaction/rt_sigprocmask: libc refuses its reserved signals 32-33.
static void reset_signals(void) {
    struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; } dfl = {SIG_DFL, 0, 0, 0};
    for (long signo = 1; signo <= 64; signo++) {
        if (signo != SIGKILL && signo != SIGSTOP) syscall(SYS_rt_sigaction, signo, &dfl, NULL, sizeof(uint64_t));
    }
    uint64_t none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

/// The child: descriptors, signals, exec. Returns (exits) only on failure.
static int run_child(void *argument) {
    struct child_plan *plan = argument;
    for (int i = 0; i < plan->count; i++) {
        long from = plan->fd_map[2 * i], to = plan->fd_map[2 * i + 1];
        long result = from == to ? syscall(SYS_fcntl, to, F_SETFD, 0) : syscall(SYS_dup2, from, to);
        if (result < 0) {
            plan->exec_errno = errno;
            return 125;
        }
    }
    reset_signals();
    syscall(SYS_execve, plan->path, plan->argv, plan->envp);
    plan->exec_errno = errno;
    return 127;
}

#if defined(__x86_64__)
/// long swinit_clone3_run(struct swinit_clone_args *, size_t, int (*fn)(void *), void *arg):
/// clone3; in the child (on the new stack) call fn(arg) and exit with its result.
long swinit_clone3_run(struct swinit_clone_args *args, size_t size, int (*fn)(void *), void *arg);
__asm__(".text\n"
        ".globl swinit_clone3_run\n"
        ".type swinit_clone3_run,@function\n"
        "swinit_clone3_run:\n"
        "    mov %rdx, %r9\n"   // fn, kept across the syscall (rcx and r11 are not)
        "    mov %rcx, %r8\n"   // arg
        "    mov $435, %eax\n"  // SYS_clone3
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    xor %ebp, %ebp\n"  // the child: outermost frame, 16-byte aligned stack
        "    mov %r8, %rdi\n"
        "    call *%r9\n"
        "    mov %eax, %edi\n"
        "    mov $60, %eax\n"   // SYS_exit
        "    syscall\n"
        "    hlt\n"
        "1:  ret\n"
        ".size swinit_clone3_run, .-swinit_clone3_run\n");
#endif

pid_t swinit_run_spawn_into_cgroup(int cgroup_fd, const char *path, char *const *argv, char *const *envp,
                                   const int *fd_map, int count, int *exec_errno) {
    struct child_plan plan = {path, argv, envp, fd_map, count, 0};
    struct swinit_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = 0x200000000ULL;  // CLONE_INTO_CGROUP
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    long pid;
#if defined(__x86_64__)
    const size_t stack_size = 64 * 1024;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    args.flags |= CLONE_VM | CLONE_VFORK;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = stack_size;
    pid = swinit_clone3_run(&args, sizeof args, run_child, &plan);
    if (pid < 0) {
        errno = (int)-pid;
        pid = -1;
    }
    int saved = errno;
    munmap(stack, stack_size);
    errno = saved;
#else
    pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(run_child(&plan));
#endif
    if (pid < 0) return -1;
    // CLONE_VFORK: the child has exec'd or exited; a failed exec left its errno.
    *exec_errno = plan.exec_errno;
    return (pid_t)pid;
}

/// The forked child's descriptors: every source moved above the highest
/// target first (a source may be another pair's target), then onto its
/// number, then everything else above 2 closed.
static int place_descriptors(const int *fd_map, int count) {
    int highest = 2;
    for (int i = 0; i < count; i++) {
        if (fd_map[2 * i + 1] > highest) highest = fd_map[2 * i + 1];
    }
    int moved[16];
    if (count > 16) {
        errno = EINVAL;
        return -1;
    }
    for (int i = 0; i < count; i++) {
        moved[i] = (int)syscall(SYS_fcntl, fd_map[2 * i], F_DUPFD_CLOEXEC, highest + 1);
        if (moved[i] < 0) return -1;
    }
    for (int i = 0; i < count; i++) {
        if (syscall(SYS_dup2, moved[i], fd_map[2 * i + 1]) < 0) return -1;
    }
    unsigned first = (unsigned)highest + 1;
    if (syscall(SYS_close_range, first, ~0U, 0) < 0) {
        for (int fd = (int)first; fd < 1024; fd++) close(fd);
    }
    // Targets below the highest that no pair names (say fd 4 without -t) are
    // the caller's descriptors: close them too.
    for (int fd = 3; fd < highest; fd++) {
        int named = 0;
        for (int i = 0; i < count; i++) named |= fd_map[2 * i + 1] == fd;
        if (!named) close(fd);
    }
    return 0;
}

pid_t swinit_run_fork_stage2(int cgroup_fd, const int *fd_map, int count, int *born_in_cgroup) {
    *born_in_cgroup = 0;
    long pid = -1;
    if (cgroup_fd >= 0) {
        struct swinit_clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = 0x200000000ULL;  // CLONE_INTO_CGROUP
        args.exit_signal = SIGCHLD;
        args.cgroup = (uint64_t)cgroup_fd;
        pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid > 0) *born_in_cgroup = 1;
    }
    if (pid < 0) pid = fork();
    if (pid != 0) return (pid_t)pid;
    reset_signals();
    if (place_descriptors(fd_map, count) < 0) {
        // Only EMFILE/ENOMEM can get here; the error pipe may not be in place.
        static const char line[] = "swinit-run: fork stage 2: placing descriptors failed\n";
        (void)!write(2, line, sizeof line - 1);
        _exit(125);
    }
    return 0;
}
