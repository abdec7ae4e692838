/* futimens and utimensat: wasi-libc 2022-05's fail with EINVAL whenever the
 * modification time is UTIME_OMIT, or an entry that is UTIME_NOW or
 * UTIME_OMIT has a tv_sec that is not a valid time, before reaching the
 * host. These convert each timestamp on its own, as POSIX describes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <wasi/libc-find-relpath.h>
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

/* utimensat through the preopen that holds `path` (wasi-libc's own also
 * turns a NULL `times` into time 0). */
int __sidecar_utimensat(int dirfd, const char *path, const struct timespec times[2], int flags) {
    __wasi_timestamp_t atim = 0, mtim = 0;
    __wasi_fstflags_t set = 0;
    if (times == NULL)
        set = __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW;
    else if (convert(&times[0], &atim, __WASI_FSTFLAGS_ATIM, __WASI_FSTFLAGS_ATIM_NOW, &set) ||
             convert(&times[1], &mtim, __WASI_FSTFLAGS_MTIM, __WASI_FSTFLAGS_MTIM_NOW, &set))
        return errno_ret(EINVAL);
    if (flags & ~AT_SYMLINK_NOFOLLOW) return errno_ret(EINVAL);
    __wasi_lookupflags_t lookup = flags & AT_SYMLINK_NOFOLLOW ? 0 : __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    char buf[PATH_MAX];
    const char *rel;
    int fd = __sidecar_at(dirfd, path, buf, sizeof buf, &rel);
    if (fd < 0) return -1;
    return errno_ret(__wasi_path_filestat_set_times(fd, lookup, rel, atim, mtim, set));
}

int __sidecar_at(int dirfd, const char *path, char *buf, unsigned long n, const char **rel) {
    if (dirfd != AT_FDCWD && path[0] != '/') {
        *rel = path;
        return dirfd;
    }
    const char *prefix;
    char *out = buf;
    int fd = __wasilibc_find_relpath(path, &prefix, &out, n);
    *rel = out;
    return fd;
}
