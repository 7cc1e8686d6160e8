// SPDX-License-Identifier: Apache-2.0
// benchkit: the timing helper behind scripts/bench.sh. A static multi-call
// program (musl-gcc -static) so its own start-up is small and the same for
// every candidate. All times are CLOCK_MONOTONIC nanoseconds, which is one
// clock for every process on the machine, inside a pid namespace too.
//
//   rounds [--pidns] N SEED SPEC   run each SPEC command N times, candidates in a
//                                   new random order each round; one line per run:
//                                   NAME ROUND NS STATUS
//   parallel N K SEED SPEC          per round and candidate: start K copies at once
//                                   (%d in an argument becomes the copy's index),
//                                   wait for all; NAME ROUND NS FAILED
//   spawn [--pidns] [--subreaper] CMD...
//                                   run CMD (as PID 1 of a new pid namespace);
//                                   print "pid HOSTPID" first; exit with its status
//   reaper [--subreaper] CMD...     the floor init: run CMD, blocking waitpid(-1)
//                                   until CMD exits; exit with its status
//   burst N | stream N              make orphans for the init above us (see below)
//   sigrecv SHM SLOT                the child that timestamps signal arrival
//   siglat N SEED SHM SPEC          signal latency, all candidates alive at once
//   storm N ROUNDS SEED SHM SPEC    N mixed signals then SIGTERM, per candidate
//   thin LOWER DIR CMD...           the runtime floor (see cmd_thin)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0  // linux/futex.h; musl ships no kernel headers
#define FUTEX_WAKE 1
#endif
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CANDIDATES 16
#define MAX_ARGS 64

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "benchkit: %s: %s\n", what, strerror(errno));
    exit(99);
}

static void sleep_ns(long ns) {
    struct timespec t = {ns / 1000000000L, ns % 1000000000L};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {}
}

static void unblock_all(void) {
    uint64_t none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

/// fork(), or fork into a new pid namespace (the child is its PID 1).
static pid_t fork_maybe_pidns(int pidns) {
    return (pid_t)syscall(SYS_clone, (pidns ? CLONE_NEWPID : 0) | SIGCHLD, 0, 0, 0, 0);
}

static int status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

/// Waits for `pid` for at most `timeout_ns`; SIGKILLs it then. Returns its
/// status code, or -1 if it had to be killed.
static int wait_bounded(pid_t pid, uint64_t timeout_ns) {
    uint64_t deadline = now_ns() + timeout_ns;
    int status;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) return status_code(status);
        if (got < 0 && errno != EINTR) return -2;
        if (now_ns() > deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            return -1;
        }
        sleep_ns(200000);
    }
}

// MARK: candidates — SPEC is a file of lines NAME<TAB>ARG0<TAB>ARG1...

struct candidate {
    char *name;
    char *argv[MAX_ARGS + 4];
    int argc;
};

static int read_spec(const char *path, struct candidate *list) {
    FILE *file = fopen(path, "re");
    if (file == NULL) die(path);
    char *line = NULL;
    size_t capacity = 0;
    int count = 0;
    while (getline(&line, &capacity, file) > 0 && count < MAX_CANDIDATES) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == 0 || line[0] == '#') continue;
        struct candidate *c = &list[count];
        memset(c, 0, sizeof *c);
        char *save = NULL;
        c->name = strdup(strtok_r(line, "\t", &save));
        char *arg;
        while ((arg = strtok_r(NULL, "\t", &save)) != NULL && c->argc < MAX_ARGS) c->argv[c->argc++] = strdup(arg);
        count++;
    }
    free(line);
    fclose(file);
    return count;
}

static uint64_t rng_state;
static uint32_t rng(void) {  // xorshift64*: enough to shuffle a handful
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}
static void shuffle(int *order, int n) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng() % (uint32_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}
static void seed(const char *text) {
    rng_state = strtoull(text, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
}

static void quiet_stdio(void) {
    int null = open("/dev/null", O_RDWR);
    if (null < 0) _exit(98);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
}

// MARK: rounds

static int cmd_rounds(int argc, char **argv) {
    int pidns = 0;
    if (argc > 0 && strcmp(argv[0], "--pidns") == 0) pidns = 1, argc--, argv++;
    if (argc != 3) return 64;
    int rounds = atoi(argv[0]);
    seed(argv[1]);
    struct candidate list[MAX_CANDIDATES];
    int n = read_spec(argv[2], list);
    int order[MAX_CANDIDATES];
    for (int round = 0; round < rounds; round++) {
        shuffle(order, n);
        for (int k = 0; k < n; k++) {
            struct candidate *c = &list[order[k]];
            uint64_t start = now_ns();
            pid_t pid = fork_maybe_pidns(pidns);
            if (pid < 0) die("clone");
            if (pid == 0) {
                quiet_stdio();
                execvp(c->argv[0], c->argv);
                _exit(127);
            }
            int code = wait_bounded(pid, 10000000000ULL);
            uint64_t took = now_ns() - start;
            printf("%s\t%d\t%llu\t%d\n", c->name, round, (unsigned long long)took, code);
        }
    }
    return 0;
}

// MARK: parallel — K copies at once

static int cmd_parallel(int argc, char **argv) {
    if (argc != 4) return 64;
    int rounds = atoi(argv[0]), copies = atoi(argv[1]);
    seed(argv[2]);
    struct candidate list[MAX_CANDIDATES];
    int n = read_spec(argv[3], list);
    int order[MAX_CANDIDATES];
    pid_t *pids = calloc((size_t)copies, sizeof *pids);
    for (int round = 0; round < rounds; round++) {
        shuffle(order, n);
        for (int k = 0; k < n; k++) {
            struct candidate *c = &list[order[k]];
            uint64_t start = now_ns();
            for (int i = 0; i < copies; i++) {
                pids[i] = fork();
                if (pids[i] < 0) die("fork");
                if (pids[i] == 0) {
                    char *args[MAX_ARGS + 4];
                    char index[16];
                    snprintf(index, sizeof index, "%d", i);
                    for (int a = 0; a < c->argc; a++) {
                        char *p = strstr(c->argv[a], "%d");
                        if (p == NULL) { args[a] = c->argv[a]; continue; }
                        args[a] = malloc(strlen(c->argv[a]) + 16);
                        sprintf(args[a], "%.*s%s%s", (int)(p - c->argv[a]), c->argv[a], index, p + 2);
                    }
                    args[c->argc] = NULL;
                    quiet_stdio();
                    execvp(args[0], args);
                    _exit(127);
                }
            }
            int failed = 0;
            for (int i = 0; i < copies; i++) {
                int code = wait_bounded(pids[i], 60000000000ULL);
                if (code != 0) failed++;
            }
            uint64_t took = now_ns() - start;
            printf("%s\t%d\t%llu\t%d\n", c->name, round, (unsigned long long)took, failed);
            fflush(stdout);
        }
    }
    return 0;
}

// MARK: spawn / reaper

static int cmd_spawn(int argc, char **argv) {
    int pidns = 0, subreaper = 0;
    while (argc > 0 && argv[0][0] == '-' && argv[0][1] == '-') {
        if (strcmp(argv[0], "--pidns") == 0) pidns = 1;
        else if (strcmp(argv[0], "--subreaper") == 0) subreaper = 1;
        argc--, argv++;
    }
    if (argc < 1) return 64;
    // Strays (if an init under test is not a subreaper) end up here, not on
    // the machine's PID 1.
    if (subreaper) prctl(PR_SET_CHILD_SUBREAPER, 1);
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) die("pipe");
    pid_t pid = fork_maybe_pidns(pidns);
    if (pid < 0) die("clone");
    if (pid == 0) {
        // The parent sends our host pid: orphan makers read the init's CPU
        // time from /proc/HOSTPID, which a pid namespace hides from getppid().
        pid_t host_pid = 0;
        close(go[1]);
        while (read(go[0], &host_pid, sizeof host_pid) < 0 && errno == EINTR) {}
        char text[16];
        snprintf(text, sizeof text, "%d", (int)host_pid);
        setenv("BENCHKIT_INIT_PID", text, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    printf("pid %d\n", (int)pid);
    fflush(stdout);
    if (write(go[1], &pid, sizeof pid) != sizeof pid) die("write");
    close(go[1]);
    int status;
    for (;;) {
        pid_t got = waitpid(-1, &status, 0);
        if (got == pid) break;
        if (got < 0 && errno != EINTR) die("waitpid");
    }
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    return status_code(status);
}

static int cmd_reaper(int argc, char **argv) {
    if (argc > 0 && strcmp(argv[0], "--subreaper") == 0) {
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        argc--, argv++;
    }
    if (argc < 1) return 64;
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    for (;;) {
        pid_t got = waitpid(-1, &status, 0);
        if (got == child) return status_code(status);
        if (got < 0 && errno != EINTR) die("waitpid");
    }
}

// MARK: orphans — burst N: N orphans blocked on a pipe exit at once; stream N:
// N orphans made one after another. Both report how long until the init has
// reaped them all and how many are still there (zombies) after 10 s.

/// Whether `pid` (one of our orphans) is still there, i.e. not reaped yet.
/// kill(0) says no for sure; a yes is checked in /proc when we share the
/// init's pid namespace view (pids can be reused on the host).
static int still_there(pid_t pid, pid_t init) {
    if (kill(pid, 0) < 0) return errno != ESRCH;
    if (init == 1) return 1;  // own pid namespace: only our processes have pids
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t length = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (length <= 0) return 0;
    stat[length] = 0;
    char *after = strrchr(stat, ')');
    char state;
    int ppid;
    if (after == NULL || sscanf(after + 2, "%c %d", &state, &ppid) != 2) return 0;
    return ppid == init;
}

/// Waits until every pid is gone; returns how many are left at the deadline.
/// Polls with kill(0) alone (cheap, so the poller takes little CPU from the
/// init it measures) and checks /proc only every 64th poll of one pid.
static int drain(pid_t *pids, int count, pid_t init, uint64_t deadline) {
    int left = 0;
    for (int i = 0; i < count; i++) {
        for (unsigned polls = 1;; polls++) {
            if (kill(pids[i], 0) < 0 && errno == ESRCH) break;
            if (polls % 64 == 0 && !still_there(pids[i], init)) break;
            if (now_ns() > deadline) { left++; break; }
            sleep_ns(20000);
        }
    }
    return left;
}

/// The init's CPU time so far (ns), from /proc/HOSTPID/schedstat; 0 if unknown.
static uint64_t init_cpu_ns(void) {
    const char *pid = getenv("BENCHKIT_INIT_PID");
    if (pid == NULL) return 0;
    char path[64], text[128];
    snprintf(path, sizeof path, "/proc/%s/schedstat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t length = read(fd, text, sizeof text - 1);
    close(fd);
    if (length <= 0) return 0;
    text[length] = 0;
    return strtoull(text, NULL, 10);
}

static int cmd_burst(int count) {
    prctl(PR_SET_TIMERSLACK, 1);
    pid_t init = getppid();
    pid_t *pids = mmap(NULL, sizeof(pid_t) * (size_t)count, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (pids == MAP_FAILED) die("mmap");
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
            pids[i] = orphan;
        }
        _exit(0);  // the orphans' parent goes: the init adopts them
    }
    close(release[0]);
    while (waitpid(middle, NULL, 0) < 0 && errno == EINTR) {}
    sleep_ns(200000000);  // let the machine settle after 10,000 forks
    uint64_t cpu = init_cpu_ns();
    uint64_t start = now_ns();
    close(release[1]);  // all of them exit at once
    int left = drain(pids, count, init, start + 10000000000ULL);
    uint64_t took = now_ns() - start;
    printf("drain_ns %llu left %d init_cpu_ns %llu\n", (unsigned long long)took, left,
           (unsigned long long)(init_cpu_ns() - cpu));
    return left == 0 ? 0 : 1;
}

static int cmd_stream(int count) {
    prctl(PR_SET_TIMERSLACK, 1);
    pid_t init = getppid();
    pid_t *pids = mmap(NULL, sizeof(pid_t) * (size_t)count, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (pids == MAP_FAILED) die("mmap");
    uint64_t cpu = init_cpu_ns();
    uint64_t start = now_ns();
    for (int i = 0; i < count; i++) {
        pid_t middle = fork();
        if (middle < 0) die("fork");
        if (middle == 0) {
            pid_t orphan = fork();
            if (orphan == 0) _exit(0);
            pids[i] = orphan;
            _exit(0);
        }
        while (waitpid(middle, NULL, 0) < 0 && errno == EINTR) {}
    }
    uint64_t made = now_ns();
    // In our own pid namespace later pids can reuse earlier ones, but only
    // for processes of this stream, which all exit: still_there stays right.
    int left = drain(pids, count, init, made + 10000000000ULL);
    uint64_t took = now_ns() - start;
    printf("stream_ns %llu made_ns %llu left %d init_cpu_ns %llu\n", (unsigned long long)took,
           (unsigned long long)(made - start), left, (unsigned long long)(init_cpu_ns() - cpu));
    return left == 0 ? 0 : 1;
}

// MARK: signals — a shared file holds one slot per receiver.

struct slot {
    volatile uint32_t ready;
    volatile uint32_t count;  // signals handled; futex word
    volatile uint64_t t_recv;
};

static struct slot *map_slots(const char *path, int create) {
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0600);
    if (fd < 0) die(path);
    size_t size = sizeof(struct slot) * MAX_CANDIDATES;
    if (create && ftruncate(fd, (off_t)size) < 0) die("ftruncate");
    struct slot *slots = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (slots == MAP_FAILED) die("mmap");
    close(fd);
    return slots;
}

static struct slot *my_slot;

static void on_signal(int signo) {
    if (signo == SIGUSR1) my_slot->t_recv = now_ns();
    __atomic_add_fetch(&my_slot->count, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &my_slot->count, FUTEX_WAKE, 1, NULL, NULL, 0);
    if (signo == SIGTERM) {  // die of it, so the init must report 143
        if (getpid() == 1) _exit(128 + SIGTERM);  // PID 1 cannot kill itself
        signal(SIGTERM, SIG_DFL);
        raise(SIGTERM);
    }
}

static const int storm_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT, SIGURG, 37, 38, 64};
#define STORM_KINDS (int)(sizeof storm_signals / sizeof storm_signals[0])

static int cmd_sigrecv(const char *path, int index) {
    my_slot = &map_slots(path, 0)[index];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    for (int i = 0; i < STORM_KINDS; i++) sigaction(storm_signals[i], &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    unblock_all();
    my_slot->ready = 1;
    for (;;) pause();
    return 0;
}

struct running {
    pid_t pid;
    int status;
};

/// Starts candidate `index` as PID 1 of a new pid namespace with the receiver as its program.
static pid_t start_receiver(struct candidate *c, int index, const char *shm, struct slot *slots) {
    static char self[4096];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length < 0) die("readlink");
    self[length] = 0;
    slots[index].ready = 0;
    slots[index].count = 0;
    char slot_text[16];
    snprintf(slot_text, sizeof slot_text, "%d", index);
    char *args[MAX_ARGS + 4];
    int a = 0;
    for (; a < c->argc; a++) args[a] = c->argv[a];
    args[a++] = self;
    args[a++] = "sigrecv";
    args[a++] = (char *)shm;
    args[a++] = slot_text;
    args[a] = NULL;
    pid_t pid = fork_maybe_pidns(1);
    if (pid < 0) die("clone");
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        execvp(args[0], args);
        _exit(127);
    }
    uint64_t deadline = now_ns() + 5000000000ULL;
    while (!slots[index].ready && now_ns() < deadline) sleep_ns(1000000);
    if (!slots[index].ready) fprintf(stderr, "benchkit: %s: receiver not ready\n", c->name);
    return pid;
}

/// Waits for the receiver's count to move past `old`; returns 0 on time-out.
static int await_count(struct slot *s, uint32_t old, uint64_t timeout_ns) {
    uint64_t deadline = now_ns() + timeout_ns;
    while (s->count == old) {
        uint64_t now = now_ns();
        if (now > deadline) return 0;
        struct timespec wait = {(time_t)((deadline - now) / 1000000000u), (long)((deadline - now) % 1000000000u)};
        syscall(SYS_futex, &s->count, FUTEX_WAIT, old, &wait, NULL, 0);
    }
    return 1;
}

static int cmd_siglat(int argc, char **argv) {
    if (argc != 4) return 64;
    int rounds = atoi(argv[0]);
    seed(argv[1]);
    const char *shm = argv[2];
    struct candidate list[MAX_CANDIDATES];
    int n = read_spec(argv[3], list);
    struct slot *slots = map_slots(shm, 1);
    pid_t pids[MAX_CANDIDATES];
    for (int i = 0; i < n; i++) pids[i] = start_receiver(&list[i], i, shm, slots);
    int order[MAX_CANDIDATES];
    for (int round = -50; round < rounds; round++) {  // 50 rounds of warm-up
        shuffle(order, n);
        for (int k = 0; k < n; k++) {
            int i = order[k];
            uint32_t old = slots[i].count;
            uint64_t sent = now_ns();
            kill(pids[i], SIGUSR1);
            if (!await_count(&slots[i], old, 1000000000ULL)) {
                printf("%s\t%d\tlost\n", list[i].name, round);
                continue;
            }
            if (round >= 0) printf("%s\t%d\t%llu\n", list[i].name, round, (unsigned long long)(slots[i].t_recv - sent));
        }
    }
    for (int i = 0; i < n; i++) kill(pids[i], SIGTERM);
    for (int i = 0; i < n; i++) printf("%s\texit\t%d\n", list[i].name, wait_bounded(pids[i], 5000000000ULL));
    unlink(shm);
    return 0;
}

static int cmd_storm(int argc, char **argv) {
    if (argc != 5) return 64;
    int count = atoi(argv[0]), rounds = atoi(argv[1]);
    seed(argv[2]);
    const char *shm = argv[3];
    struct candidate list[MAX_CANDIDATES];
    int n = read_spec(argv[4], list);
    struct slot *slots = map_slots(shm, 1);
    int order[MAX_CANDIDATES];
    for (int round = 0; round < rounds; round++) {
        shuffle(order, n);
        for (int k = 0; k < n; k++) {
            int i = order[k];
            pid_t pid = start_receiver(&list[i], i, shm, slots);
            uint64_t start = now_ns();
            int failed_kills = 0;
            for (int s = 0; s < count; s++)
                if (kill(pid, storm_signals[s % STORM_KINDS]) < 0) failed_kills++;
            uint64_t sent = now_ns();
            kill(pid, SIGTERM);
            int code = wait_bounded(pid, 10000000000ULL);
            uint64_t done = now_ns();
            // NAME ROUND EXIT HANDLED SEND_NS TERM_TO_EXIT_NS FAILED_KILLS
            printf("%s\t%d\t%d\t%u\t%llu\t%llu\t%d\n", list[i].name, round, code, slots[i].count,
                   (unsigned long long)(sent - start), (unsigned long long)(done - sent), failed_kills);
            fflush(stdout);
        }
    }
    unlink(shm);
    return 0;
}

// MARK: thin LOWER DIR CMD... — the runtime floor: new pid, mount, uts, ipc and
// net namespaces, an overlay of LOWER with a private tmpfs upper layer on DIR,
// chroot, exec. What every runtime must do, with nothing else around it.

static int cmd_thin(int argc, char **argv) {
    if (argc < 3) return 64;
    const char *lower = argv[0], *dir = argv[1];
    if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID) < 0) die("unshare");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private");
    if (mount("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0) die("mount tmpfs");
    char upper[4096], work[4096], merged[4096], options[16384];
    snprintf(upper, sizeof upper, "%s/u", dir);
    snprintf(work, sizeof work, "%s/w", dir);
    snprintf(merged, sizeof merged, "%s/m", dir);
    if (mkdir(upper, 0755) < 0 || mkdir(work, 0755) < 0 || mkdir(merged, 0755) < 0) die("mkdir");
    snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
    if (mount("overlay", merged, "overlay", 0, options) < 0) die("mount overlay");
    pid_t child = fork();  // PID 1 of the new namespace
    if (child < 0) die("fork");
    if (child == 0) {
        if (chroot(merged) < 0 || chdir("/") < 0) die("chroot");
        execv(argv[2], argv + 2);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    return status_code(status);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: benchkit rounds|parallel|spawn|reaper|burst|stream|sigrecv|siglat|storm|thin ...\n");
        return 64;
    }
    const char *command = argv[1];
    argc -= 2;
    argv += 2;
    if (strcmp(command, "rounds") == 0) return cmd_rounds(argc, argv);
    if (strcmp(command, "parallel") == 0) return cmd_parallel(argc, argv);
    if (strcmp(command, "spawn") == 0) return cmd_spawn(argc, argv);
    if (strcmp(command, "reaper") == 0) return cmd_reaper(argc, argv);
    if (strcmp(command, "burst") == 0 && argc == 1) return cmd_burst(atoi(argv[0]));
    if (strcmp(command, "stream") == 0 && argc == 1) return cmd_stream(atoi(argv[0]));
    if (strcmp(command, "sigrecv") == 0 && argc == 2) return cmd_sigrecv(argv[0], atoi(argv[1]));
    if (strcmp(command, "siglat") == 0) return cmd_siglat(argc, argv);
    if (strcmp(command, "storm") == 0) return cmd_storm(argc, argv);
    if (strcmp(command, "thin") == 0) return cmd_thin(argc, argv);
    fprintf(stderr, "benchkit: unknown command %s\n", command);
    return 64;
}
