/* pipe, pipe2, dup, dup2, dup3, fcntl and the O_CLOEXEC-aware open/openat,
 * over host_proc; sync and syncfs. Flags are translated between wasi-libc's O_* values and
 * the Linux values of the ABI. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "host_proc.h"
#include "internal.h"

/* wasi-libc O_* -> Linux. Sets *bad for bits that have no Linux meaning. */
uint32_t __sidecar_oflags_to_linux(int flags, int *bad) {
    uint32_t f = (uint32_t)flags, lx = 0;
    uint32_t known = O_ACCMODE | O_APPEND | O_DSYNC | O_NONBLOCK | O_RSYNC |
                     O_SYNC | O_CREAT | O_DIRECTORY | O_EXCL | O_TRUNC |
                     O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    switch (f & O_ACCMODE) {
    case 0:          /* no access mode given (e.g. F_SETFL arguments) */
    case O_RDONLY:
    case O_EXEC:
    case O_SEARCH:
        break;
    case O_WRONLY:
        lx |= LX_O_WRONLY;
        break;
    case O_RDWR:
        lx |= LX_O_RDWR;
        break;
    default:
        *bad = 1;
    }
    if (f & ~known) *bad = 1;
    if (f & O_APPEND) lx |= LX_O_APPEND;
    if (f & O_NONBLOCK) lx |= LX_O_NONBLOCK;
    if (f & O_DSYNC) lx |= LX_O_DSYNC;
    if (f & (O_SYNC | O_RSYNC)) lx |= LX_O_SYNC;
    if (f & O_CREAT) lx |= LX_O_CREAT;
    if (f & O_EXCL) lx |= LX_O_EXCL;
    if (f & O_TRUNC) lx |= LX_O_TRUNC;
    if (f & O_DIRECTORY) lx |= LX_O_DIRECTORY;
    if (f & O_NOFOLLOW) lx |= LX_O_NOFOLLOW;
    if (f & O_CLOEXEC) lx |= LX_O_CLOEXEC;
    if (f & O_NOCTTY) lx |= 0400; /* Linux O_NOCTTY */
    return lx;
}

/* Linux O_* (as F_GETFL reports them) -> wasi-libc. */
int __sidecar_oflags_from_linux(uint32_t lx) {
    int f;
    switch (lx & LX_O_ACCMODE) {
    case LX_O_WRONLY:
        f = O_WRONLY;
        break;
    case LX_O_RDWR:
        f = O_RDWR;
        break;
    default:
        f = O_RDONLY;
    }
    if (lx & LX_O_APPEND) f |= O_APPEND;
    if (lx & LX_O_NONBLOCK) f |= O_NONBLOCK;
    if ((lx & LX_O_SYNC) == LX_O_SYNC)
        f |= O_SYNC;
    else if (lx & LX_O_DSYNC)
        f |= O_DSYNC;
    if (lx & LX_O_DIRECTORY) f |= O_DIRECTORY;
    if (lx & LX_O_NOFOLLOW) f |= O_NOFOLLOW;
    return f;
}

int pipe2(int fds[2], int flags) {
    if (flags & ~(O_CLOEXEC | O_NONBLOCK)) return errno_ret(EINVAL);
    uint32_t lx = 0;
    if (flags & O_CLOEXEC) lx |= LX_O_CLOEXEC;
    if (flags & O_NONBLOCK) lx |= LX_O_NONBLOCK;
    int32_t out[2];
    int32_t r = __host_proc_pipe2(HP(out), lx);
    if (r) return errno_ret(r);
    fds[0] = out[0];
    fds[1] = out[1];
    return 0;
}

int pipe(int fds[2]) { return pipe2(fds, 0); }

int dup(int fd) {
    int32_t out;
    int32_t r = __host_proc_dup(fd, HP(&out));
    if (r) return errno_ret(r);
    return out;
}

int dup3(int oldfd, int newfd, int flags) {
    if (flags & ~O_CLOEXEC) return errno_ret(EINVAL);
    int32_t r = __host_proc_dup3(oldfd, newfd, (flags & O_CLOEXEC) ? LX_O_CLOEXEC : 0);
    if (r) return errno_ret(r);
    return newfd;
}

int dup2(int oldfd, int newfd) {
    if (oldfd == newfd) {
        int32_t out;
        int32_t r = __host_proc_fcntl(oldfd, LX_F_GETFD, 0, HP(&out));
        if (r) return errno_ret(EBADF);
        return oldfd;
    }
    int32_t r = __host_proc_dup3(oldfd, newfd, 0);
    if (r) return errno_ret(r);
    return newfd;
}

/* Replaces wasi-libc's fcntl (its fcntl.o defines nothing else). */
int fcntl(int fd, int cmd, ...) {
    int32_t arg = 0;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
    case F_SETFD:
    case F_SETFL: {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
        break;
    }
    case F_GETFD:
    case F_GETFL:
        break;
    default:
        return errno_ret(EINVAL);
    }
    if (cmd == F_SETFL) {
        /* Linux ignores the access mode and creation flags here; send only
         * the status flags. */
        int bad = 0;
        arg = (int32_t)(__sidecar_oflags_to_linux(arg, &bad) &
                        (LX_O_APPEND | LX_O_NONBLOCK | LX_O_SYNC));
    }
    /* F_* and FD_CLOEXEC values above are the Linux ones. */
    int32_t out = 0;
    int32_t r = __host_proc_fcntl(fd, cmd, arg, HP(&out));
    if (r) return errno_ret(r);
    if (cmd == F_GETFL) return __sidecar_oflags_from_linux((uint32_t)out);
    return out;
}

/* What open/openat return: fd, made close-on-exec for O_CLOEXEC (closed
 * again if that fails). */
static int finish_open(int fd, int flags) {
    if (fd < 0 || !(flags & O_CLOEXEC)) return fd;
    int32_t out;
    int32_t r = __host_proc_fcntl(fd, LX_F_SETFD, LX_FD_CLOEXEC, HP(&out));
    if (r) {
        close(fd);
        return errno_ret(r);
    }
    return fd;
}

/* The mode argument that follows `flags`, present only with O_CREAT. */
static unsigned mode_arg(int flags, va_list ap) {
    return (flags & O_CREAT) ? va_arg(ap, unsigned) : 0;
}

/* Targets of the asm labels in the SDK's <fcntl.h>/<unistd.h>. wasi-libc's
 * open/openat ignore the mode argument, but pass it on anyway. */
int __sidecar_open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    unsigned mode = mode_arg(flags, ap);
    va_end(ap);
    return finish_open(open(path, flags & ~O_CLOEXEC, mode), flags);
}

int __sidecar_openat(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    unsigned mode = mode_arg(flags, ap);
    va_end(ap);
    return finish_open(openat(dirfd, path, flags & ~O_CLOEXEC, mode), flags);
}

void sync(void) {}

int syncfs(int fd) { return fsync(fd); }
