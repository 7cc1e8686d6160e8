// SPDX-License-Identifier: Apache-2.0
#ifndef SWINIT_PROBE_ESCAPES_H
#define SWINIT_PROBE_ESCAPES_H

/// Runs an escape attempt or resource probe named by argv[1]
/// (unshare-user-mount, clone-user, clone3, io-uring, userfaultfd,
/// perf-event, add-key, personality, sockets, fork-bomb N, allocate MIB,
/// send-stdio SOCKET);
/// returns its exit status, or -1 when argv[1] names none of them.
int probe_escape(int argc, char **argv);

#endif
