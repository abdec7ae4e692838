/* stat's permission bits. wasi-libc fills st_mode from WASI's filestat,
 * which carries the file type alone; host_proc.stat_mode adds the bits the
 * kernel keeps (a host file's own, or those a VM file was made with).
 * sidecar-cc links with --wrap for stat, lstat, fstat and fstatat, so
 * wasi-libc's come here first. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "sidecar_abi.h"

int __real_fstatat(int, const char *__restrict, struct stat *__restrict, int);
int __real_stat(const char *__restrict, struct stat *__restrict);
int __real_lstat(const char *__restrict, struct stat *__restrict);
int __real_fstat(int, struct stat *);

/* Adds the bits of (dirfd, path) to st. */
static int add_mode(int dirfd, const char *path, struct stat *st, int flags) {
    char buf[PATH_MAX];
    const char *rel;
    int fd = __sidecar_at(dirfd, path, buf, sizeof buf, &rel);
    uint32_t mode;
    if (fd >= 0 && *rel &&
        __host_proc_stat_mode(fd, HP(rel), strlen(rel), flags & AT_SYMLINK_NOFOLLOW ? 0 : 1,
                              HP(&mode)) == 0)
        st->st_mode |= mode & 07777;
    return 0;
}

int __wrap_fstatat(int dirfd, const char *__restrict path, struct stat *__restrict st, int flags) {
    if (__real_fstatat(dirfd, path, st, flags) != 0) return -1;
    return add_mode(dirfd, path, st, flags);
}

int __wrap_stat(const char *__restrict path, struct stat *__restrict st) {
    if (__real_stat(path, st) != 0) return -1;
    return add_mode(AT_FDCWD, path, st, 0);
}

int __wrap_lstat(const char *__restrict path, struct stat *__restrict st) {
    if (__real_lstat(path, st) != 0) return -1;
    return add_mode(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

int __wrap_fstat(int fd, struct stat *st) {
    if (__real_fstat(fd, st) != 0) return -1;
    uint32_t mode;
    if (__host_proc_stat_mode(fd, 0, 0, 0, HP(&mode)) == 0) st->st_mode |= mode & 07777;
    return 0;
}
