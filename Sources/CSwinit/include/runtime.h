// SPDX-License-Identifier: Apache-2.0
// The runtime's C shim (swinit-run): syscalls that glibc hides behind
// _GNU_SOURCE or has no wrapper for, and variadic ioctl. Header-only and
// limited to headers musl also has, so the static init build is unaffected.
#ifndef SWINIT_RUNTIME_H
#define SWINIT_RUNTIME_H

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline int swinit_run_errno(void) { return errno; }

/// unshare(2) through syscall(2): glibc declares unshare only with _GNU_SOURCE.
static inline int swinit_unshare(int flags) { return (int)syscall(SYS_unshare, flags); }

/// pivot_root(2); glibc has no wrapper.
static inline int swinit_pivot_root(const char *_Nonnull new_root, const char *_Nonnull put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

/// O_PATH (open(2)); glibc defines it only with _GNU_SOURCE.
#define SWINIT_O_PATH 010000000

/// pipe2(2) through syscall(2): glibc declares pipe2 only with _GNU_SOURCE.
static inline int swinit_run_pipe2(int fds[_Nonnull 2], int flags) {
    return (int)syscall(SYS_pipe2, fds, flags);
}

/// openat2(2) resolve flags (linux/openat2.h, not in musl's headers).
#define SWINIT_RESOLVE_NO_MAGICLINKS 0x02
#define SWINIT_RESOLVE_IN_ROOT 0x10

/// openat2(2); Linux 5.6+. `resolve` takes SWINIT_RESOLVE_* bits; with
/// RESOLVE_IN_ROOT every path (and every symlink in it) resolves as if
/// `dirfd` were "/", so nothing can point out of the container's root.
static inline int swinit_openat2(int dirfd, const char *_Nonnull path, uint64_t flags, uint64_t mode,
                                 uint64_t resolve) {
    struct { uint64_t flags, mode, resolve; } how = { flags, mode, resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/// close_range(2); Linux 5.9+.
static inline int swinit_run_close_range(unsigned first, unsigned last) {
    return (int)syscall(SYS_close_range, first, last, 0);
}

/// rt_sigprocmask(2) on the raw 64-bit kernel mask (glibc's sigprocmask
/// refuses to touch signals 32 and 33).
static inline int swinit_run_sigprocmask(int how, uint64_t set, uint64_t *_Nullable old) {
    return (int)syscall(SYS_rt_sigprocmask, how, &set, old, sizeof(uint64_t));
}

/// signalfd4(2) on the raw 64-bit kernel mask.
static inline int swinit_run_signalfd(uint64_t mask, int flags) {
    return (int)syscall(SYS_signalfd4, -1, &mask, sizeof(uint64_t), flags);
}

/// Reads one signalfd_siginfo (128 bytes, see signalfd(2)) and returns its
/// ssi_signo, 0 when nothing was read (EAGAIN), or -1 with errno set.
static inline int swinit_run_read_signal(int fd) {
    uint32_t info[32];
    ssize_t n = read(fd, info, sizeof info);
    if (n == (ssize_t)sizeof info) return (int)info[0];
    if (n < 0 && errno == EAGAIN) return 0;
    return n < 0 ? -1 : 0;
}

/// Sets every catchable signal's disposition to SIG_DFL (see sigaction(2)),
/// so a SIG_IGN inherited by swinit-run does not reach the container.
static inline void swinit_run_reset_dispositions(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    for (int signo = 1; signo < 65; signo++) {
        if (signo == SIGKILL || signo == SIGSTOP) continue;
        (void)sigaction(signo, &action, NULL);
    }
}

/// Ignores SIGPIPE (see signal(7)): a write to a closed stderr then fails
/// with EPIPE instead of killing swinit-run.
static inline int swinit_run_ignore_sigpipe(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &action, NULL);
}

/// Sets IFF_UP on the loopback interface of the calling process's network
/// namespace: SIOCGIFFLAGS/SIOCSIFFLAGS, see netdevice(7).
static inline int swinit_run_loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    int result = ioctl(fd, SIOCGIFFLAGS, &request);
    if (result == 0) {
        request.ifr_flags |= IFF_UP;
        result = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

#endif
