// SPDX-License-Identifier: Apache-2.0
// swinit-run's spawn of stage 2 straight into the container's cgroup2
// directory (clone3(2) with CLONE_INTO_CGROUP), where posix_spawn cannot.
// Only basic types here: this header is also parsed by the static musl build.
#ifndef SWINIT_STAGE2_SPAWN_H
#define SWINIT_STAGE2_SPAWN_H

#include <sys/types.h>

/// clone3(CLONE_INTO_CGROUP) into the cgroup2 directory `cgroup_fd`, then in
/// the child: dup2 each `fd_map` pair (from, to; `count` pairs), an empty
/// signal mask and default dispositions for all 64 signals (raw calls, 32
/// and 33 too), execve(`path`, `argv`, `envp`). If the exec fails, the child
/// writes `125 spawn stage 2 PATH: REASON` to `report_fd` and exits 125.
/// Returns the child's pid, or -1 with errno (ENOSYS before Linux 5.7: the
/// caller falls back to posix_spawn and moves the child itself).
pid_t swinit_run_spawn_into_cgroup(int cgroup_fd, const char *_Nonnull path, char *_Nullable const *_Nonnull argv,
                                   char *_Nullable const *_Nonnull envp, const int *_Nonnull fd_map, int count,
                                   int report_fd);

#endif
