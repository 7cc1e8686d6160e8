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

#endif
