// SPDX-License-Identifier: Apache-2.0
// The init's C shim: only what Swift cannot express or import as it is —
// errno, the wait-status macros, raw syscalls that take the kernel's 64-bit
// signal mask, variadic prctl, and the child side of fork/exec.
#ifndef SWINIT_INIT_H
#define SWINIT_INIT_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

// gcc (musl-gcc, for the static build) has no nullability qualifiers.
#ifndef __clang__
#define _Nullable
#define _Nonnull
#endif

/// Highest signal number the kernel knows on x86_64 and aarch64 (_NSIG - 1).
#define SWINIT_MAX_SIGNAL 64

static inline int swinit_errno(void) { return errno; }
static inline void swinit_set_errno(int value) { errno = value; }

// Wait-status macros (see waitpid(2)); function-like macros do not import.
static inline int swinit_wifexited(int status) { return WIFEXITED(status); }
static inline int swinit_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int swinit_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int swinit_wtermsig(int status) { return WTERMSIG(status); }
static inline int swinit_wifstopped(int status) { return WIFSTOPPED(status); }
static inline int swinit_wstopsig(int status) { return WSTOPSIG(status); }

/// rt_sigprocmask(2) on the raw 64-bit kernel mask. glibc's and musl's
/// sigprocmask silently drop signals 32 and 33 (their threading internals),
/// so an init that must block *every* signal has to call the kernel itself.
static inline int swinit_rt_sigprocmask(int how, uint64_t set, uint64_t *_Nullable old) {
    return (int)syscall(SYS_rt_sigprocmask, how, &set, old, sizeof(uint64_t));
}

/// signalfd4(2) on the raw 64-bit kernel mask, for the same reason.
static inline int swinit_signalfd(uint64_t mask, int flags) {
    return (int)syscall(SYS_signalfd4, -1, &mask, sizeof(uint64_t), flags);
}

/// close_range(2); Linux 5.9+. Returns -1/ENOSYS on older kernels.
static inline int swinit_close_range(unsigned first, unsigned last) {
    return (int)syscall(SYS_close_range, first, last, 0);
}

/// prctl(2) with one argument; prctl is variadic and does not import.
static inline int swinit_prctl(int option, unsigned long arg) {
    return prctl(option, arg, 0, 0, 0);
}

/// Reads `sizeof(struct signalfd_siginfo)` bytes into `info` fields we use.
/// Returns bytes read, or -1 with errno set (see signalfd(2)).
static inline ssize_t swinit_read_signal(int fd, uint32_t *_Nonnull signo, int32_t *_Nonnull code,
                                         uint32_t *_Nonnull sender) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n == (ssize_t)sizeof info) {
        *signo = info.ssi_signo;
        *code = info.ssi_code;
        *sender = info.ssi_pid;
    }
    return n;
}

/// Forks and execs `argv` (PATH search like execvp(3)). The child: its own
/// process group, the terminal's foreground process group when asked
/// (ENOTTY/ENXIO/EBADF tolerated), LISTEN_PID rewritten when it named swinit
/// (sd_listen_fds(3)), `restore_mask` (the mask swinit inherited) restored,
/// exec. Dispositions need no restoring: swinit never installs a handler, so
/// an inherited SIG_IGN (nohup) passes through fork and exec untouched. An exec failure travels back over a
/// CLOEXEC pipe, so it is reported, never guessed.
///
/// Returns the child's pid (> 0); or -1 with errno set when fork or pipe
/// failed (`*exec_errno` = 0); or -1 with `*exec_errno` set to the errno of the
/// failed exec, the child already reaped.
///
/// `sigchld_was_ignored`: swinit had to reset an inherited SIG_IGN on SIGCHLD
/// (otherwise the kernel reaps its children and their status is lost); the
/// child gets the SIG_IGN back so the disposition it sees is the inherited one.
///
/// `take_terminal`: make the child's group the foreground process group of
/// the terminal on stdin (decided by the caller: see
/// swinit_owns_foreground()).
pid_t swinit_spawn(char *_Nullable const *_Nonnull argv, uint64_t restore_mask, int sigchld_was_ignored,
                   int take_terminal, int *_Nonnull exec_errno);

/// Whether stdin is a terminal whose foreground process group is ours, i.e.
/// swinit runs as the foreground job (see tcgetpgrp(3)). Only then may the
/// child take the terminal: a swinit started in the background (`swinit … &`
/// from an interactive shell) must not steal it from the shell.
static inline int swinit_owns_foreground(void) {
    if (!isatty(STDIN_FILENO)) return 0;
    return tcgetpgrp(STDIN_FILENO) == getpgrp();
}

/// Sets SIGCHLD to SIG_DFL. Returns 1 when it was SIG_IGN, 0 when not, -1 with
/// errno on failure (see sigaction(2)).
int swinit_reset_sigchld(void);

#endif
