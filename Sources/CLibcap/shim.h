// SPDX-License-Identifier: Apache-2.0
// libcap (libcap-dev): capability sets, see cap_set_proc(3) and cap_drop_bound(3).
#include <sys/capability.h>
