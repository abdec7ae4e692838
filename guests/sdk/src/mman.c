/* msync() for wasi-libc's emulated mmap (libwasi-emulated-mman): a mapping
 * is a private copy in linear memory (not page-aligned), so there is
 * nothing to write back; success, as for an anonymous mapping on Linux.
 * Flags are checked as Linux checks them. */
#define _GNU_SOURCE
#define _WASI_EMULATED_MMAN
#include <errno.h>
#include <sys/mman.h>

#include "internal.h"

int msync(void *addr, size_t len, int flags) {
    (void)addr, (void)len;
    if ((flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return errno_ret(EINVAL);
    return 0;
}
