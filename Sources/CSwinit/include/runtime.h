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
#include <sys/uio.h>
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

/// mount_setattr(2) on `dirfd` itself and every mount below it
/// (AT_EMPTY_PATH | AT_RECURSIVE), setting `attr_set` (MOUNT_ATTR_RDONLY 0x1,
/// NOSUID 0x2, NODEV 0x4, NOEXEC 0x8); Linux 5.12+ (ENOSYS before).
static inline int swinit_run_mount_setattr_recursive(int dirfd, uint64_t attr_set) {
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
    struct { uint64_t attr_set, attr_clr, propagation, userns_fd; } attr = { attr_set, 0, 0, 0 };
    return (int)syscall(SYS_mount_setattr, dirfd, "", 0x1000 /* AT_EMPTY_PATH */ | 0x8000 /* AT_RECURSIVE */,
                        &attr, sizeof attr);
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

/// Sets every catchable signal's disposition to SIG_DFL, all 64 of them, so
/// a SIG_IGN inherited by swinit-run does not reach the container. Raw
/// rt_sigaction(2) with the kernel's struct: libc's sigaction refuses its
/// reserved signals 32 and 33 (EINVAL), and glibc's posix_spawn leaves them
/// ignored in the child it starts.
static inline void swinit_run_reset_dispositions(void) {
    struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; } action;
    memset(&action, 0, sizeof action);
    action.handler = SIG_DFL;
    for (int signo = 1; signo < 65; signo++) {
        if (signo == SIGKILL || signo == SIGSTOP) continue;
        (void)syscall(SYS_rt_sigaction, signo, &action, NULL, sizeof(uint64_t));
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

/// KEYCTL_JOIN_SESSION_KEYRING(1) with a NULL name (keyctl(2)): the caller
/// gets a new anonymous session keyring, so keys of the caller's session and
/// user keyrings are no longer possessed (crun and runc do this per container).
static inline int swinit_run_join_new_session_keyring(void) {
    return (int)syscall(SYS_keyctl, 1, (const char *)0);
}

/// A CLOEXEC AF_UNIX stream socketpair (socketpair(2)) for the console socket.
static inline int swinit_run_socketpair(int fds[_Nonnull 2]) {
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
}

/// Opens a new pseudo-terminal from `ptmx` (the devpts instance it belongs
/// to): master CLOEXEC, unlocked (TIOCSPTLCK), and its slave opened through
/// the master with TIOCGPTPEER (Linux 4.13+, no path lookup in /dev/pts).
/// Returns 0 and both fds, or -1 with errno set and nothing left open.
static inline int swinit_run_open_pty(const char *_Nonnull ptmx, int *_Nonnull master, int *_Nonnull slave) {
    int unlock = 0;
    int fd = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    int peer = ioctl(fd, TIOCSPTLCK, &unlock) == 0 ? ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    if (peer < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *master = fd;
    *slave = peer;
    return 0;
}

/// The number of bytes a pipe or socket holds unread (FIONREAD, pipe(7)),
/// into `count`; 0 on success, -1 with errno.
static inline int swinit_run_bytes_readable(int fd, int *_Nonnull count) { return ioctl(fd, FIONREAD, count); }

/// Makes `fd` the controlling terminal of the calling session leader (TIOCSCTTY, tty_ioctl(4)).
static inline int swinit_run_set_controlling_terminal(int fd) { return ioctl(fd, TIOCSCTTY, 0); }

/// Reads the window size of terminal `fd` (TIOCGWINSZ); -1 when it is not one.
static inline int swinit_run_get_window_size(int fd, unsigned short *_Nonnull rows, unsigned short *_Nonnull columns) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *columns = size.ws_col;
    return 0;
}

/// Sets the window size of terminal `fd` (TIOCSWINSZ); the kernel then sends
/// SIGWINCH to the terminal's foreground process group.
static inline int swinit_run_set_window_size(int fd, unsigned short rows, unsigned short columns) {
    struct winsize size;
    memset(&size, 0, sizeof size);
    size.ws_row = rows;
    size.ws_col = columns;
    return ioctl(fd, TIOCSWINSZ, &size);
}

/// A one-byte message with room for one SCM_RIGHTS fd, as both ends of the
/// console socket send and receive it (unix(7), cmsg(3)).
struct swinit_run_fd_message {
    char byte;
    struct iovec payload;
    struct msghdr header;
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;  // last: clang sizes it late
};

static inline void swinit_run_fd_message_init(struct swinit_run_fd_message *_Nonnull message) {
    memset(message, 0, sizeof *message);
    message->payload.iov_base = &message->byte;
    message->payload.iov_len = 1;
    message->header.msg_iov = &message->payload;
    message->header.msg_iovlen = 1;
    message->header.msg_control = message->control.space;
    message->header.msg_controllen = sizeof message->control.space;
}

/// Sends `fd` over the AF_UNIX socket `socket` as SCM_RIGHTS ancillary data.
static inline int swinit_run_send_fd(int socket, int fd) {
    struct swinit_run_fd_message message;
    swinit_run_fd_message_init(&message);
    struct cmsghdr *header = CMSG_FIRSTHDR(&message.header);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
    ssize_t sent;
    do sent = sendmsg(socket, &message.header, MSG_NOSIGNAL); while (sent < 0 && errno == EINTR);
    return sent == 1 ? 0 : -1;
}

/// Receives one fd sent by swinit_run_send_fd, CLOEXEC. Returns it, 0 at
/// end of file (nothing was sent), or -1 with errno set.
static inline int swinit_run_receive_fd(int socket) {
    struct swinit_run_fd_message message;
    swinit_run_fd_message_init(&message);
    ssize_t got;
    do got = recvmsg(socket, &message.header, MSG_CMSG_CLOEXEC); while (got < 0 && errno == EINTR);
    if (got <= 0) return (int)got;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message.header);
    if (header == NULL || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
        errno = EBADMSG;
        return -1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof(int));
    return fd;
}

#endif
