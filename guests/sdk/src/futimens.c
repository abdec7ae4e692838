/* futimens: wasi-libc 2022-05's version fails with EINVAL whenever the
 * modification time is UTIME_OMIT, before reaching the host. This one
 * converts each timestamp on its own, as POSIX describes. */
#include <errno.h>
#include <sys/stat.h>
#include <wasi/api.h>

#include "internal.h"

static int convert(const struct timespec *ts, __wasi_timestamp_t *out,
                   __wasi_fstflags_t set, __wasi_fstflags_t now,
                   __wasi_fstflags_t *flags) {
    *out = 0;
    if (ts->tv_nsec == UTIME_OMIT)
        return 0;
    if (ts->tv_nsec == UTIME_NOW) {
        *flags |= now;
        return 0;
    }
    if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000 || ts->tv_sec < 0)
        return -1;
    *out = (__wasi_timestamp_t)ts->tv_sec * 1000000000u + (__wasi_timestamp_t)ts->tv_nsec;
    *flags |= set;
    return 0;
}

int futimens(int fd, const struct timespec times[2]) {
    __wasi_timestamp_t atim, mtim;
    __wasi_fstflags_t flags = 0;
    if (times == NULL) {
        flags = __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW;
        atim = mtim = 0;
    } else if (convert(&times[0], &atim, __WASI_FSTFLAGS_ATIM, __WASI_FSTFLAGS_ATIM_NOW, &flags) ||
               convert(&times[1], &mtim, __WASI_FSTFLAGS_MTIM, __WASI_FSTFLAGS_MTIM_NOW, &flags))
        return errno_ret(EINVAL);
    return errno_ret(__wasi_fd_filestat_set_times(fd, atim, mtim, flags));
}
