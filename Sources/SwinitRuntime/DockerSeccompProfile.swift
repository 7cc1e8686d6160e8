// SPDX-License-Identifier: Apache-2.0
// Docker's default seccomp profile as a table (facts from moby/profiles
// seccomp/default_linux.go, 2026: io_uring_* removed from the allow list,
// socket(2) limited to the address families the kernel still implements
// minus AF_ALG and AF_VSOCK, socketcall(2) failing ENOSYS, CAP_BPF/CAP_PERFMON
// cases). Default action:
// EPERM. Names this libseccomp does not know are skipped when the filter is
// built (as runc does), so they stay denied.

extension SeccompProfile {
    /// Docker's default profile, equivalent rule for rule.
    public static let dockerDefault = SeccompProfile(
        defaultAction: .errno(1),  // EPERM
        architectureMap: [
            "SCMP_ARCH_X86_64": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "SCMP_ARCH_AARCH64": ["SCMP_ARCH_ARM"],
            "SCMP_ARCH_MIPS64": ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"],
            "SCMP_ARCH_MIPS64N32": ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"],
            "SCMP_ARCH_MIPSEL64": ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"],
            "SCMP_ARCH_MIPSEL64N32": ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"],
            "SCMP_ARCH_S390X": ["SCMP_ARCH_S390"],
            "SCMP_ARCH_RISCV64": [],
            "SCMP_ARCH_LOONGARCH64": [],
        ],
        rules: DockerSeccompTable.rules)
}

/// The rows of Docker's default profile.
enum DockerSeccompTable {
    /// Allowed for everyone, without conditions.
    static let allowed = words("""
        accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
        clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
        clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
        epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
        eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
        fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync
        fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync
        ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
        getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
        getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
        getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
        get_thread_area gettid gettimeofday getuid getuid32 getxattr getxattrat inotify_add_watch inotify_init
        inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
        io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule
        landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listmount
        listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise
        map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2
        mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64
        mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock
        munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause
        pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64
        prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
        pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
        remap_file_pages removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe
        rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
        rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr
        sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
        sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
        sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64
        sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
        setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32
        setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address
        setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
        sigprocmask sigreturn socketpair splice stat stat64 statfs statfs64 statmount statx
        symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete
        timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
        timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64
        ugetrlimit umask uname unlink unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork
        vmsplice wait4 waitid waitpid write writev
        """)

    /// socket(2) domains allowed: every family the kernel still implements
    /// except AF_ALG (38, kernel crypto API) and AF_VSOCK (40, host/guest).
    /// Removed families (DECnet 12, ECONET 19, ATMSVC 20, IRDA 23,
    /// WANPIPE 25, ISDN 34, CAIF 37) are left out too.
    static let socketDomains: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 21, 22, 24,
                                          26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 39, 41, 42, 43, 44, 45]

    /// Namespace flags clone(2) may not carry without CAP_SYS_ADMIN:
    /// NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP.
    static let namespaceFlags: UInt64 = 0x7E02_0000

    /// Allowed only with this capability (in the container's bounding set).
    static let byCapability: [(String, [String])] = [
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ("CAP_SYS_ADMIN", words("""
            bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr
            lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl
            quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare
            """)),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_CHROOT", ["chroot"]),
        ("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
    ]

    /// Allowed only on these architectures (Go names, as Docker matches them).
    static let byArchitecture: [([String], [String])] = [
        (["ppc64le"], ["sync_file_range2", "swapcontext"]),
        (["arm", "arm64"], ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"]),
        (["amd64", "x32"], ["arch_prctl"]),
        (["amd64", "x32", "x86"], ["modify_ldt"]),
        (["s390", "s390x"], ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"]),
        (["riscv64"], ["riscv_flush_icache"]),
    ]

    /// personality(2) values allowed: PER_LINUX, PER_LINUX32, UNAME26,
    /// UNAME26|PER_LINUX32, and 0xffffffff (the query).
    static let personalities: [UInt64] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff]

    static let rules: [SeccompRule] = {
        var rules = [SeccompRule(names: allowed, action: .allow)]
        rules.append(SeccompRule(names: ["process_vm_readv", "process_vm_writev", "ptrace"], action: .allow,
                                 includes: SeccompCondition(minimumKernel: [4, 8])))
        rules += socketRules
        for value in personalities {
            rules.append(SeccompRule(names: ["personality"], action: .allow,
                                     arguments: [SeccompArgument(index: 0, value: value, op: .equal)]))
        }
        for (arches, names) in byArchitecture {
            rules.append(SeccompRule(names: names, action: .allow, includes: SeccompCondition(architectures: arches)))
        }
        let noSysAdmin = SeccompCondition(capabilities: ["CAP_SYS_ADMIN"])
        for (cap, names) in byCapability {
            rules.append(SeccompRule(names: names, action: .allow, includes: SeccompCondition(capabilities: [cap])))
        }
        // Without CAP_SYS_ADMIN: clone without namespace flags (s390 swaps the
        // first two arguments); clone3 fails ENOSYS so libc falls back to clone.
        rules.append(SeccompRule(names: ["clone"], action: .allow,
                                 arguments: [SeccompArgument(index: 0, value: namespaceFlags, op: .maskedEqual)],
                                 excludes: SeccompCondition(capabilities: ["CAP_SYS_ADMIN"], architectures: ["s390", "s390x"])))
        rules.append(SeccompRule(names: ["clone"], action: .allow,
                                 arguments: [SeccompArgument(index: 1, value: namespaceFlags, op: .maskedEqual)],
                                 includes: SeccompCondition(architectures: ["s390", "s390x"]), excludes: noSysAdmin))
        rules.append(SeccompRule(names: ["clone3"], action: .errno(38), excludes: noSysAdmin))  // ENOSYS
        // socketcall(2) multiplexes socket(2) with its arguments in memory, out
        // of the filter's reach: allowed, it would reopen AF_ALG and AF_VSOCK.
        // ENOSYS, so a 32-bit libc uses the direct calls (moby's 2026 profile).
        rules.append(SeccompRule(names: ["socketcall"], action: .errno(38)))
        return rules
    }()

    /// socket(2) rules for `socketDomains`: one `<` rule for the run that
    /// starts at AF_UNIX, then one `==` rule per family (a rule's
    /// comparisons of one argument cannot bound a range from both sides).
    static var socketRules: [SeccompRule] {
        var end = 0
        while end + 1 < socketDomains.count && socketDomains[end + 1] == socketDomains[end] + 1 { end += 1 }
        func rule(_ value: UInt64, _ op: SeccompOperator) -> SeccompRule {
            SeccompRule(names: ["socket"], action: .allow, arguments: [SeccompArgument(index: 0, value: value, op: op)])
        }
        return [rule(socketDomains[end] + 1, .lessThan)] + socketDomains[(end + 1)...].map { rule($0, .equal) }
    }

    private static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }
}
