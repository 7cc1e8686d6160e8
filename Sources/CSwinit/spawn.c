// SPDX-License-Identifier: Apache-2.0
// The child side of swinit's spawn: everything between fork(2) and
// execvp(3) happens here, in C, so no Swift runtime code runs in the child.
#define _GNU_SOURCE
#include "include/init.h"

#include <stdio.h>

/// Rewrites LISTEN_PID to our own pid when it named our parent (swinit), so
/// a socket-activated program still recognises its sockets (sd_listen_fds(3)).
static void rewrite_listen_pid(pid_t parent) {
    const char *value = getenv("LISTEN_PID");
    if (value == NULL) return;
    char *end = NULL;
    long named = strtol(value, &end, 10);
    if (end == value || *end != '\0' || named != (long)parent) return;
    char buffer[24];
    snprintf(buffer, sizeof buffer, "%ld", (long)getpid());
    setenv("LISTEN_PID", buffer, 1);
}

/// Gives the terminal on stdin to our new process group; the caller already
/// checked that stdin is a terminal swinit holds (swinit_owns_foreground).
/// Every signal is still blocked here (inherited from swinit), so tcsetpgrp
/// does not stop us with SIGTTOU. A terminal hung up meanwhile (ENXIO, EIO)
/// simply means there is nothing to take.
static void take_foreground(void) {
    (void)tcsetpgrp(STDIN_FILENO, getpid());
}

pid_t swinit_spawn(char *const *argv, uint64_t restore_mask, int sigchld_was_ignored, int take_terminal,
                   int *exec_errno) {
    *exec_errno = 0;
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return -1;

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        errno = saved;
        return -1;
    }

    if (pid == 0) {
        close(report[0]);
        (void)setpgid(0, 0);
        if (take_terminal) take_foreground();
        rewrite_listen_pid(parent);
        if (sigchld_was_ignored) (void)signal(SIGCHLD, SIG_IGN);
        (void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &restore_mask, NULL, sizeof restore_mask);
        execvp(argv[0], argv);
        int failure = errno;
        ssize_t ignored = write(report[1], &failure, sizeof failure);
        (void)ignored;
        _exit(127);
    }

    // Also set the group from this side, as shells do, so the group exists
    // whatever the scheduler ran first (EACCES after the exec is harmless).
    (void)setpgid(pid, pid);
    close(report[1]);
    int failure = 0;
    ssize_t got;
    do {
        got = read(report[0], &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    close(report[0]);

    if (got == (ssize_t)sizeof failure) {
        // The exec failed: the child is about to _exit; reap it here so the
        // caller sees one failure, not a failure and a stray exit.
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        *exec_errno = failure;
        errno = failure;
        return -1;
    }
    return pid;
}

int swinit_reset_sigchld(void) {
    struct sigaction previous;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    if (sigaction(SIGCHLD, &dfl, &previous) < 0) return -1;
    return previous.sa_handler == SIG_IGN ? 1 : 0;
}
