// SPDX-License-Identifier: Apache-2.0
// swinit-run's spawn of stage 2 straight into the container's cgroup2
// directory (clone3(2) with CLONE_INTO_CGROUP), where posix_spawn cannot.
// Only basic types here: this header is also parsed by the static musl build.
#ifndef SWINIT_STAGE2_SPAWN_H
#define SWINIT_STAGE2_SPAWN_H

#include <sys/types.h>

/// clone3(CLONE_INTO_CGROUP) into the cgroup2 directory `cgroup_fd`, then in
/// the child: dup2 each `fd_map` pair (from, to; `count` pairs; from == to
/// clears FD_CLOEXEC), an empty signal mask and default dispositions for all
/// 64 signals (raw calls, 32 and 33 too), execve(`path`, `argv`, `envp`).
/// Returns the child's pid once it has exec'd, with `*exec_errno` 0; if the
/// exec (or a dup2) failed, the child has exited and `*exec_errno` says why.
/// Returns -1 with errno when no child was made (ENOSYS before Linux 5.7:
/// the caller falls back to posix_spawn and moves the child itself).
pid_t swinit_run_spawn_into_cgroup(int cgroup_fd, const char *_Nonnull path, char *_Nullable const *_Nonnull argv,
                                   char *_Nullable const *_Nonnull envp, const int *_Nonnull fd_map, int count,
                                   int *_Nonnull exec_errno);

/// Stage 2 without a re-exec: a fork-style clone3(2) (no CLONE_VM), into the
/// cgroup2 directory `cgroup_fd` when it is >= 0 (CLONE_INTO_CGROUP), else,
/// or where clone3 cannot (ENOSYS), a plain fork(2). In the child: each
/// `fd_map` pair (from, to; `count` pairs) is dup'ed onto its number without
/// FD_CLOEXEC (sources may collide with targets: they are moved above the
/// targets first), every other descriptor above 2 is closed (close_range(2)),
/// the signal mask is emptied and all 64 dispositions are SIG_DFL (raw calls).
/// The caller must be single-threaded: the child goes on running the
/// caller's code. Returns 0 in the child (which, if a descriptor step
/// failed, says so on stderr and exits 125 instead), the child's pid in the parent with
/// `*born_in_cgroup` 1 when CLONE_INTO_CGROUP placed it, or -1 with errno.
pid_t swinit_run_fork_stage2(int cgroup_fd, const int *_Nonnull fd_map, int count, int *_Nonnull born_in_cgroup);

#endif
