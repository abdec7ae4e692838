/* File modes. The sidecar kernel keeps no permission bits (WASI preview 1
 * has no modes and the ABI no chmod import), so chmod, fchmod and fchmodat
 * check that the file exists, as Linux would, and change nothing. The file
 * creation mask is kept here for umask()'s sake; it is not applied, since
 * files carry no modes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

static mode_t cmask = 022;

mode_t umask(mode_t mask) {
    mode_t old = cmask;
    cmask = mask & 0777;
    return old;
}

int chmod(const char *path, mode_t mode) {
    struct stat st;
    (void)mode;
    return stat(path, &st);
}

int fchmod(int fd, mode_t mode) {
    struct stat st;
    (void)mode;
    return fstat(fd, &st);
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags) {
    struct stat st;
    (void)mode;
    if (flags & ~AT_SYMLINK_NOFOLLOW) return errno_ret(EINVAL);
    if (fstatat(dirfd, path, &st, flags) != 0) return -1;
    /* Linux cannot change a symlink's own mode. */
    if ((flags & AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode)) return errno_ret(EOPNOTSUPP);
    return 0;
}
