/* Private to the shim: helpers shared by its sources. */
#ifndef SIDECAR_INTERNAL_H
#define SIDECAR_INTERNAL_H

#include <errno.h>
#include <stdint.h>

/* The C return of a call that failed with errno `e`, or succeeded if `e` is
 * 0: 0 then, else -1 with errno set. `e` is a WASI errno, as every host_*
 * import and __wasi_* call returns, and wasi-libc's errno uses the same
 * numbering, so it is stored unchanged: the runtime alone (abi::errno)
 * translates Linux errnos. Also for the shim's own checks
 * (`return errno_ret(EINVAL);`). */
static inline int errno_ret(int32_t e) {
    if (e == 0) return 0;
    errno = e;
    return -1;
}

/* The directory fd and relative path that a *at() call on (dirfd, path)
 * means to WASI: for AT_FDCWD or an absolute path, the preopen that holds
 * it (the relative part goes to buf, of n bytes). -1 with errno set if no
 * preopen does. */
int __sidecar_at(int dirfd, const char *path, char *buf, unsigned long n, const char **rel);

#endif
