/* File modes and owners. The sidecar kernel keeps no permission bits (WASI
 * preview 1 has no modes and the ABI no chmod import), so chmod, fchmod and
 * fchmodat check that the file exists, as Linux would, and change nothing.
 * Every file belongs to root, the only user: chown to root (or -1, "keep")
 * checks the file the same way; another owner is EPERM, since it could not
 * be kept. The file
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

static int owner_ok(uid_t uid, gid_t gid) {
    return (uid == 0 || uid == (uid_t)-1) && (gid == 0 || gid == (gid_t)-1);
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags) {
    struct stat st;
    if (flags & ~AT_SYMLINK_NOFOLLOW) return errno_ret(EINVAL);
    if (fstatat(dirfd, path, &st, flags) != 0) return -1;
    return owner_ok(uid, gid) ? 0 : errno_ret(EPERM);
}

int chown(const char *path, uid_t uid, gid_t gid) { return fchownat(AT_FDCWD, path, uid, gid, 0); }

int lchown(const char *path, uid_t uid, gid_t gid) {
    return fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

int fchown(int fd, uid_t uid, gid_t gid) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    return owner_ok(uid, gid) ? 0 : errno_ret(EPERM);
}
