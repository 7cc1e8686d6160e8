// SPDX-License-Identifier: Apache-2.0
// swinit-probe: a static multi-call program that plays the child in swinit's
// black-box tests (in the spirit of crun's tests/init.c). Each subcommand
// does one observable thing and reports on stdout, one line per fact.
// Built statically against musl by scripts/build-static.sh, so it also runs
// inside a busybox root.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "escapes.h"

static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length > (int)sizeof line - 1) length = sizeof line - 1;
    ssize_t ignored = write(STDOUT_FILENO, line, (size_t)length);
    (void)ignored;
}

static void die(const char *what) {
    fprintf(stderr, "swinit-probe: %s: %s\n", what, strerror(errno));
    exit(99);
}

static long now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec pause_for = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&pause_for, &pause_for) < 0 && errno == EINTR) {}
}

static void unblock_all(void) {
    uint64_t none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

// MARK: signals — report every signal received; exit 0 after SIGTERM.

static void report_signal(int signo) {
    char line[48];
    int length = snprintf(line, sizeof line, "signal %d pid %d\n", signo, (int)getpid());
    ssize_t ignored = write(STDOUT_FILENO, line, (size_t)length);
    (void)ignored;
    if (signo == SIGTERM) _exit(0);
}

/// Reports signals in this process and in `helpers` more processes of the
/// same process group, so group delivery can be seen.
static int probe_signals(int helpers) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = report_signal;
    sigfillset(&action.sa_mask);
    for (int signo = 1; signo <= 64; signo++) {
        if (signo == SIGKILL || signo == SIGSTOP || signo == SIGCHLD) continue;
        if (signo >= 32 && signo <= 34) continue;  // musl's own; its sigaction refuses them
        if (sigaction(signo, &action, NULL) < 0) die("sigaction");
    }
    unblock_all();
    for (int i = 0; i < helpers; i++) {
        pid_t helper = fork();
        if (helper < 0) die("fork");
        if (helper == 0) break;
    }
    say("ready pid %d\n", (int)getpid());
    for (;;) pause();
    return 0;
}

// MARK: orphans N — make N orphans that exit at once; report what is left.

/// Counts processes whose parent is `parent` (other than ourselves).
static int count_children_of(pid_t parent, int *zombies) {
    DIR *proc = opendir("/proc");
    if (proc == NULL) die("opendir /proc");
    int count = 0;
    *zombies = 0;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        if (atoi(entry->d_name) == getpid()) continue;
        char path[300], stat[512];
        snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t length = read(fd, stat, sizeof stat - 1);
        close(fd);
        if (length <= 0) continue;
        stat[length] = 0;
        char *after_name = strrchr(stat, ')');
        char state;
        int ppid;
        if (after_name == NULL || sscanf(after_name + 2, "%c %d", &state, &ppid) != 2) continue;
        if (ppid != parent) continue;
        count++;
        if (state == 'Z') (*zombies)++;
    }
    closedir(proc);
    return count;
}

static int probe_orphans(int count) {
    pid_t init = getppid();
    int release[2];
    if (pipe(release) < 0) die("pipe");
    pid_t middle = fork();
    if (middle < 0) die("fork");
    if (middle == 0) {
        for (int i = 0; i < count; i++) {
            pid_t orphan = fork();
            if (orphan < 0) die("fork orphan");
            if (orphan == 0) {
                close(release[1]);
                char byte;
                while (read(release[0], &byte, 1) < 0 && errno == EINTR) {}
                _exit(0);
            }
        }
        _exit(0);  // the orphans' parent goes: they are reparented
    }
    close(release[0]);
    while (waitpid(middle, NULL, 0) < 0 && errno == EINTR) {}
    say("made %d orphans\n", count);
    close(release[1]);  // all of them exit at once
    long deadline = now_ms() + 10000;
    int left = 0, zombies = 0;
    while (now_ms() < deadline) {
        left = count_children_of(init, &zombies);
        if (left == 0) break;
        sleep_ms(10);
    }
    say("left %d zombies %d\n", left, zombies);
    return left == 0 ? 0 : 1;
}

// MARK: orphan-parent — who adopts an orphan?

static int probe_orphan_parent(void) {
    int report[2];
    if (pipe(report) < 0) die("pipe");
    pid_t middle = fork();
    if (middle < 0) die("fork");
    if (middle == 0) {
        pid_t original = getpid();  // the orphan's parent until it exits
        pid_t orphan = fork();
        if (orphan < 0) die("fork");
        if (orphan == 0) {
            long deadline = now_ms() + 5000;
            while (getppid() == original && now_ms() < deadline) sleep_ms(5);
            int adopter = (int)getppid();
            ssize_t ignored = write(report[1], &adopter, sizeof adopter);
            (void)ignored;
            _exit(0);
        }
        _exit(0);
    }
    close(report[1]);
    while (waitpid(middle, NULL, 0) < 0 && errno == EINTR) {}
    int adopter = 0;
    if (read(report[0], &adopter, sizeof adopter) != sizeof adopter) die("read adopter");
    say("adopted by %d\n", adopter);
    sleep_ms(100);  // let the adopter reap it while we still run
    return 0;
}

// MARK: ids, status, fds, env, cwd, disposition

static int probe_ids(void) {
    say("pid %d ppid %d pgid %d sid %d foreground %d\n", (int)getpid(), (int)getppid(), (int)getpgrp(),
        (int)getsid(0), (int)tcgetpgrp(STDIN_FILENO));
    return 0;
}

/// Prints the SigBlk and SigIgn lines of /proc/self/status.
static int probe_sigmask(void) {
    FILE *status = fopen("/proc/self/status", "re");
    if (status == NULL) die("open /proc/self/status");
    char line[256];
    while (fgets(line, sizeof line, status) != NULL) {
        if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0) say("%s", line);
    }
    fclose(status);
    return 0;
}

static int probe_fds(void) {
    DIR *fds = opendir("/proc/self/fd");
    if (fds == NULL) die("opendir /proc/self/fd");
    struct dirent *entry;
    say("fds");
    while ((entry = readdir(fds)) != NULL) {
        if (entry->d_name[0] == '.' || atoi(entry->d_name) == dirfd(fds)) continue;
        say(" %s", entry->d_name);
    }
    say("\n");
    closedir(fds);
    return 0;
}

static int probe_getenv(const char *name) {
    const char *value = getenv(name);
    say("%s=%s\n", name, value ? value : "(unset)");
    return 0;
}

static int probe_cwd(void) {
    char path[4096];
    if (getcwd(path, sizeof path) == NULL) die("getcwd");
    say("cwd %s\n", path);
    return 0;
}

// MARK: kill-self SIG, abort, exit N, sleep MS

static int probe_kill_self(int signo) {
    signal(signo, SIG_DFL);
    unblock_all();
    raise(signo);
    return 98;
}

// MARK: pty [-s ROWS COLS] PROGRAM... — run PROGRAM on a new pseudo-terminal
// (of that window size) as its controlling terminal; copy our stdin to it and
// its output to our stdout; at its exit, report the terminal's local modes.

static int probe_pty(char **argv, int rows, int columns) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) die("posix_openpt");
    struct winsize size = {(unsigned short)rows, (unsigned short)columns, 0, 0};
    if (rows > 0 && ioctl(master, TIOCSWINSZ, &size) < 0) die("TIOCSWINSZ");
    const char *slave_name = ptsname(master);
    if (slave_name == NULL) die("ptsname");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        setsid();
        int slave = open(slave_name, O_RDWR);
        if (slave < 0) die("open pty");
        if (ioctl(slave, TIOCSCTTY, 0) < 0) die("TIOCSCTTY");
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        if (slave > 2) close(slave);
        unblock_all();
        execvp(argv[0], argv);
        die("exec");
    }
    say("pty child %d\n", (int)child);
    struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {master, POLLIN, 0}};
    char buffer[4096];
    int status = 0;
    pid_t exited = 0;
    for (;;) {
        // Someone else (a test looking at the terminal) may hold the slave
        // open, so no EIO comes: notice the child's exit, then drain.
        int ready = poll(fds, 2, exited ? 0 : 100);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        if (ready == 0) {
            if (exited) break;
            exited = waitpid(child, &status, WNOHANG);
            continue;
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            ssize_t got = read(STDIN_FILENO, buffer, sizeof buffer);
            if (got <= 0) fds[0].fd = -1;  // stdin closed: stop copying, keep the pty open
            else if (write(master, buffer, (size_t)got) < 0) die("write pty");
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read(master, buffer, sizeof buffer);
            if (got <= 0) break;  // EIO: every slave descriptor is closed
            ssize_t ignored = write(STDOUT_FILENO, buffer, (size_t)got);
            (void)ignored;
        }
    }
    while (!exited && waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    // What PROGRAM left behind in its process group (a watcher) may still
    // change the terminal: wait for the group to be gone, up to 2 s.
    for (long deadline = now_ms() + 2000; kill(-child, 0) == 0 && now_ms() < deadline;) sleep_ms(5);
    // The terminal's modes as PROGRAM left them (through the master, TCGETS
    // reads the slave's): did it restore what it changed?
    struct termios modes;
    if (tcgetattr(master, &modes) == 0) {
        say("pty exit modes icanon %d isig %d echo %d\n", !!(modes.c_lflag & ICANON), !!(modes.c_lflag & ISIG),
            !!(modes.c_lflag & ECHO));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// MARK: with-mask HEX PROGRAM..., ignore SIG PROGRAM... — exec PROGRAM with
// that signal mask / with SIG ignored, to see what swinit passes on.

static int probe_with_mask(const char *hex, char **argv) {
    uint64_t mask = strtoull(hex, NULL, 16);
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, sizeof mask) < 0) die("rt_sigprocmask");
    execvp(argv[0], argv);
    die("exec");
    return 99;
}

static int probe_ignore(int signo, char **argv) {
    if (signal(signo, SIG_IGN) == SIG_ERR) die("signal");
    execvp(argv[0], argv);
    die("exec");
    return 99;
}

// MARK: clean [-C DIR] PROGRAM... — exec PROGRAM (in DIR) with an empty signal mask, default
// dispositions and only fds 0-2, whatever the test runner's thread had
// (worker threads block most signals, and a spawned process inherits that).

static int probe_clean(char **argv) {
    struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; } dfl = {SIG_DFL, 0, NULL, 0};
    for (int signo = 1; signo <= 64; signo++) {
        if (signo == SIGKILL || signo == SIGSTOP) continue;
        // Raw rt_sigaction: libc refuses its reserved signals (32-34).
        syscall(SYS_rt_sigaction, signo, &dfl, NULL, sizeof(uint64_t));
    }
    unblock_all();
    if (syscall(SYS_close_range, 3, ~0U, 0) < 0) die("close_range");
    execvp(argv[0], argv);
    die("exec");
    return 99;
}

// MARK: become-root PROGRAM... — from a setuid-root copy of the probe:
// make every uid 0 and exec PROGRAM, so that an unprivileged parent can no
// longer signal it (EPERM), as with a setuid program under an init.

static int probe_become_root(char **argv) {
    if (setresuid(0, 0, 0) < 0) die("setresuid");
    execvp(argv[0], argv);
    die("exec");
    return 99;
}

// MARK: tiocsti TEXT — try to type TEXT into the terminal on fds 0-2 and on
// /dev/tty with TIOCSTI, as an escape would (bubblewrap's CVE-2017-5226);
// one line per descriptor: "fd N: injected", "fd N: <errno name>", or
// "fd N: not a terminal".

static const char *errno_name(int error) {
    switch (error) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case ENOTTY: return "ENOTTY";
    case ENOKEY: return "ENOKEY";
    case EKEYREVOKED: return "EKEYREVOKED";
    case ENOSYS: return "ENOSYS";
    default: return strerror(error);
    }
}

static void inject(int fd, const char *label, const char *text) {
    if (!isatty(fd)) {
        say("%s: not a terminal\n", label);
        return;
    }
    for (const char *c = text; *c; c++) {
        if (ioctl(fd, TIOCSTI, c) < 0) {
            say("%s: %s\n", label, errno_name(errno));
            return;
        }
    }
    say("%s: injected\n", label);
}

static int probe_tiocsti(const char *text) {
    char label[16];
    for (int fd = 0; fd <= 2; fd++) {
        snprintf(label, sizeof label, "fd %d", fd);
        inject(fd, label, text);
    }
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0) say("/dev/tty: %s\n", errno_name(errno));
    else inject(tty, "/dev/tty", text);
    say("tiocsti done\n");
    return 0;
}

// MARK: keyctl-read ID... — read keys by serial number with the raw keyctl(2)
// (KEYCTL_READ), and name our session keyring, to see which of the caller's
// keys a container can read: "key ID: read PAYLOAD" or "key ID: <errno name>".

static int probe_keyctl_read(int count, char **ids) {
    long session = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
    if (session < 0) say("session keyring: %s\n", errno_name(errno));
    else say("session keyring: %ld\n", session);
    for (int i = 0; i < count; i++) {
        char payload[256];
        long length = syscall(SYS_keyctl, 11 /* KEYCTL_READ */, atol(ids[i]), payload, sizeof payload - 1);
        if (length < 0) {
            say("key %s: %s\n", ids[i], errno_name(errno));
        } else {
            payload[length < (long)sizeof payload - 1 ? length : (long)sizeof payload - 1] = 0;
            say("key %s: read %s\n", ids[i], payload);
        }
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr,
            "usage: swinit-probe signals [HELPERS] | with-mask HEX PROGRAM... | ignore SIG PROGRAM...\n"
            "                    | clean [-C DIR] PROGRAM... | become-root PROGRAM...\n"
            "                    | orphans N | orphan-parent | ids | sigmask | fds | getenv NAME | cwd\n"
            "                    | kill-self SIG | abort | exit N | sleep MS | pty [-s ROWS COLS] PROGRAM...\n"
            "                    | tiocsti TEXT | keyctl-read ID...\n"
            "                    | unshare-user-mount | clone-user | clone3 | io-uring | userfaultfd\n"
            "                    | perf-event | add-key | personality | sockets | fork-bomb N | allocate MIB\n"
            "                    | send-stdio SOCKET\n");
    return 64;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *command = argv[1];
    if (strcmp(command, "signals") == 0) return probe_signals(argc >= 3 ? atoi(argv[2]) : 0);
    if (strcmp(command, "with-mask") == 0 && argc >= 4) return probe_with_mask(argv[2], argv + 3);
    if (strcmp(command, "clean") == 0 && argc >= 5 && strcmp(argv[2], "-C") == 0) {
        if (chdir(argv[3]) < 0) die("chdir");
        return probe_clean(argv + 4);
    }
    if (strcmp(command, "clean") == 0 && argc >= 3) return probe_clean(argv + 2);
    if (strcmp(command, "become-root") == 0 && argc >= 3) return probe_become_root(argv + 2);
    if (strcmp(command, "ignore") == 0 && argc >= 4) return probe_ignore(atoi(argv[2]), argv + 3);
    if (strcmp(command, "orphans") == 0 && argc == 3) return probe_orphans(atoi(argv[2]));
    if (strcmp(command, "orphan-parent") == 0) return probe_orphan_parent();
    if (strcmp(command, "ids") == 0) return probe_ids();
    if (strcmp(command, "sigmask") == 0) return probe_sigmask();
    if (strcmp(command, "fds") == 0) return probe_fds();
    if (strcmp(command, "getenv") == 0 && argc == 3) return probe_getenv(argv[2]);
    if (strcmp(command, "cwd") == 0) return probe_cwd();
    if (strcmp(command, "kill-self") == 0 && argc == 3) return probe_kill_self(atoi(argv[2]));
    if (strcmp(command, "abort") == 0) {
        unblock_all();
        abort();
    }
    if (strcmp(command, "exit") == 0 && argc == 3) return atoi(argv[2]);
    if (strcmp(command, "sleep") == 0 && argc == 3) {
        sleep_ms(atol(argv[2]));
        return 0;
    }
    if (strcmp(command, "pty") == 0 && argc >= 6 && strcmp(argv[2], "-s") == 0) {
        return probe_pty(argv + 5, atoi(argv[3]), atoi(argv[4]));
    }
    if (strcmp(command, "pty") == 0 && argc >= 3) return probe_pty(argv + 2, 0, 0);
    if (strcmp(command, "tiocsti") == 0 && argc == 3) return probe_tiocsti(argv[2]);
    if (strcmp(command, "keyctl-read") == 0 && argc >= 3) return probe_keyctl_read(argc - 2, argv + 2);
    int escape = probe_escape(argc, argv);
    if (escape >= 0) return escape;
    return usage();
}
