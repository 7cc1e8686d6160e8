// SPDX-License-Identifier: Apache-2.0
// libseccomp (libseccomp-dev): the filter is built and exported as BPF on the
// host side (seccomp_export_bpf(3)); stage 2 only installs the program.
#include <seccomp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

/// seccomp(SECCOMP_SET_MODE_FILTER, 0, prog) (seccomp(2)) for a classic BPF
/// program of `length` bytes (a multiple of 8). The caller must have set
/// no_new_privs or hold CAP_SYS_ADMIN.
static inline int swinit_seccomp_install(const void *_Nonnull program, unsigned long length) {
    struct sock_fprog prog = { (unsigned short)(length / sizeof(struct sock_filter)),
                               (struct sock_filter *)program };
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/// memfd_create(2) through syscall(2): glibc declares it only with _GNU_SOURCE.
static inline int swinit_memfd_create(const char *_Nonnull name, unsigned flags) {
    return (int)syscall(SYS_memfd_create, name, flags);
}

/// scmp_arg_cmp values without the C macros Swift cannot call.
static inline struct scmp_arg_cmp swinit_scmp_arg(unsigned index, enum scmp_compare op,
                                                  uint64_t a, uint64_t b) {
    struct scmp_arg_cmp cmp = { index, op, a, b };
    return cmp;
}
