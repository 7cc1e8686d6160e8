// SPDX-License-Identifier: Apache-2.0
// libarchive (libarchive-dev): tar reading and writing with gzip/zstd filters,
// see archive_read(3), archive_write(3), archive_entry(3).
#include <archive.h>
#include <archive_entry.h>
// The xattrs an entry carries are applied with fsetxattr(2).
#include <sys/xattr.h>
