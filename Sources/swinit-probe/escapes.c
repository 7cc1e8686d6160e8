// SPDX-License-Identifier: Apache-2.0
// swinit-probe's escape attempts and resource probes for swinit-run's
// seccomp and cgroup tests. Each attempt prints one line, `NAME: ok` or
// `NAME: strerror(errno)`, and the probe exits 0, so a test reads exactly
// which call the kernel (or the seccomp filter) refused and with what.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escapes.h"

static void outcome(const char *name, long result) {
    if (result < 0) printf("%s: %s\n", name, strerror(errno));
    else printf("%s: ok\n", name);
    fflush(stdout);
}

/// unshare(CLONE_NEWUSER | CLONE_NEWNS), then mount a tmpfs in that user
/// namespace: the first step of CVE-2022-0185-style exploits.
static int unshare_user_mount(void) {
    long result = syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS);
    outcome("unshare(CLONE_NEWUSER)", result);
    if (result < 0) return 0;
    outcome("mount tmpfs in the user namespace", mount("none", "/tmp", "tmpfs", 0, NULL));
    return 0;
}

/// clone(CLONE_NEWUSER): the same through clone(2); the child exits at once.
static int clone_user(void) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    outcome("clone(CLONE_NEWUSER)", pid);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return 0;
}

/// clone3 with a zero size: EINVAL from the kernel, ENOSYS from Docker's filter.
static int clone3_call(void) {
    outcome("clone3", syscall(SYS_clone3, NULL, 0));
    return 0;
}

static int io_uring(void) {
    uint32_t params[30];  // struct io_uring_params is 120 bytes
    memset(params, 0, sizeof params);
    long fd = syscall(SYS_io_uring_setup, 1, params);
    outcome("io_uring_setup", fd);
    if (fd >= 0) close((int)fd);
    return 0;
}

static int userfaultfd_call(void) {
    // UFFD_USER_MODE_ONLY (1): allowed to unprivileged users since Linux 5.11.
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | 1);
    outcome("userfaultfd", fd);
    if (fd >= 0) close((int)fd);
    return 0;
}

static int perf_event(void) {
    // struct perf_event_attr: type PERF_TYPE_SOFTWARE, size, config
    // PERF_COUNT_SW_TASK_CLOCK, flags disabled|exclude_kernel|exclude_hv.
    struct { uint32_t type, size; uint64_t config, sample, sample_type, read_format, flags, rest[10]; } attr;
    memset(&attr, 0, sizeof attr);
    attr.type = 1;
    attr.size = sizeof attr;
    attr.config = 1;
    attr.flags = 1 | 1 << 5 | 1 << 6;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    outcome("perf_event_open", fd);
    if (fd >= 0) close((int)fd);
    return 0;
}

static int keys(void) {
    // KEY_SPEC_PROCESS_KEYRING is -2; KEYCTL_GET_KEYRING_ID is 0.
    outcome("add_key", syscall(SYS_add_key, "user", "swinit-probe", "x", 1, -2));
    outcome("keyctl", syscall(SYS_keyctl, 0, -2, 1));
    outcome("request_key", syscall(SYS_request_key, "user", "swinit-probe-missing", NULL, 0));
    return 0;
}

/// personality(READ_IMPLIES_EXEC) is refused; the query 0xffffffff and
/// PER_LINUX are allowed.
static int personality_calls(void) {
    outcome("personality(READ_IMPLIES_EXEC)", syscall(SYS_personality, READ_IMPLIES_EXEC));
    outcome("personality(query)", syscall(SYS_personality, 0xffffffffUL));
    outcome("personality(PER_LINUX)", syscall(SYS_personality, PER_LINUX));
    return 0;
}

/// The same socket(AF_VSOCK) through the 32-bit socketcall(2) multiplexer
/// (int $0x80, SYS_SOCKETCALL 102, SYS_SOCKET 1), whose arguments sit in
/// memory a filter cannot look into: the bypass Docker's 2026 profile closes
/// by failing socketcall with ENOSYS. The arguments must have a 32-bit
/// address (MAP_32BIT).
static void socketcall_vsock(void) {
#if defined(__x86_64__)
    unsigned int *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (args == MAP_FAILED) {
        outcome("socketcall(AF_VSOCK)", -1);
        return;
    }
    args[0] = 40;  // AF_VSOCK
    args[1] = SOCK_STREAM;
    args[2] = 0;
    long result;
    __asm__ volatile("int $0x80" : "=a"(result) : "a"(102L), "b"(1L), "c"((long)(unsigned long)args) : "memory");
    if (result < 0) {
        errno = (int)-result;
        result = -1;
    } else {
        close((int)result);
    }
    outcome("socketcall(AF_VSOCK)", result);
    munmap(args, 4096);
#endif
}

static int sockets(void) {
    long fd = socket(40, SOCK_STREAM, 0);  // AF_VSOCK
    outcome("socket(AF_VSOCK)", fd);
    if (fd >= 0) close((int)fd);
    fd = socket(38, SOCK_SEQPACKET, 0);  // AF_ALG
    outcome("socket(AF_ALG)", fd);
    if (fd >= 0) close((int)fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    outcome("socket(AF_INET)", fd);
    if (fd >= 0) close((int)fd);
    socketcall_vsock();
    return 0;
}

/// Forks up to `limit` children that wait, stops at the first failure,
/// reports `forks: N of LIMIT (strerror)`, then kills and reaps them all.
static int fork_bomb(int limit) {
    pid_t *children = calloc((size_t)limit, sizeof *children);
    if (!children) return 99;
    int made = 0, error = 0;
    while (made < limit) {
        pid_t pid = fork();
        if (pid == 0) {
            pause();
            _exit(0);
        }
        if (pid < 0) {
            error = errno;
            break;
        }
        children[made++] = pid;
    }
    printf("forks: %d of %d (%s)\n", made, limit, error ? strerror(error) : "no error");
    fflush(stdout);
    for (int i = 0; i < made; i++) kill(children[i], SIGKILL);
    for (int i = 0; i < made; i++) waitpid(children[i], NULL, 0);
    free(children);
    return 0;
}

/// Allocates and touches `mib` MiB, one MiB at a time, then reports.
static int allocate(int mib) {
    for (int i = 0; i < mib; i++) {
        char *block = malloc(1 << 20);
        if (!block) {
            printf("allocated: %d MiB (malloc failed)\n", i);
            return 1;
        }
        memset(block, 1, 1 << 20);
    }
    printf("allocated: %d MiB\n", mib);
    return 0;
}

/// Connects to the unix socket at `path`, sends our stdout and stderr over
/// it (SCM_RIGHTS) and exits without waiting: while the peer leaves the
/// message unread, the descriptors stay open in flight after this process
/// and its whole container are gone. A runtime that copies the container's
/// output until end of file would wait for the peer.
static int send_stdio(const char *path) {
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    if (sock < 0 || connect(sock, (struct sockaddr *)&address, sizeof address) < 0) {
        outcome("connect", -1);
        return 1;
    }
    int fds[2] = {1, 2};
    char byte = 'x', control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec data = {.iov_base = &byte, .iov_len = 1};
    struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(header), fds, sizeof fds);
    outcome("send stdout and stderr", sendmsg(sock, &message, 0));
    return 0;
}

int probe_escape(int argc, char **argv) {
    const char *command = argv[1];
    if (strcmp(command, "unshare-user-mount") == 0) return unshare_user_mount();
    if (strcmp(command, "clone-user") == 0) return clone_user();
    if (strcmp(command, "clone3") == 0) return clone3_call();
    if (strcmp(command, "io-uring") == 0) return io_uring();
    if (strcmp(command, "userfaultfd") == 0) return userfaultfd_call();
    if (strcmp(command, "perf-event") == 0) return perf_event();
    if (strcmp(command, "add-key") == 0) return keys();
    if (strcmp(command, "personality") == 0) return personality_calls();
    if (strcmp(command, "sockets") == 0) return sockets();
    if (strcmp(command, "fork-bomb") == 0 && argc == 3) return fork_bomb(atoi(argv[2]));
    if (strcmp(command, "allocate") == 0 && argc == 3) return allocate(atoi(argv[2]));
    if (strcmp(command, "send-stdio") == 0 && argc == 3) return send_stdio(argv[2]);
    return -1;
}
