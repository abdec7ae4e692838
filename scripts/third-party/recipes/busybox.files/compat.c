/* Definitions for what busybox links and neither wasi-libc nor the SDK has
 * (ids, passwd/group, chmod/umask, realpath, fork/vfork/exec, popen and
 * system come from the SDK). Weak, and linked from an archive after the
 * SDK's shim, so that an SDK implementation, once there, wins. Ownership
 * changes succeed on existing files and change nothing, mknod fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WEAK __attribute__((weak))

WEAK int chown(const char *p, uid_t u, gid_t g) { (void)u; (void)g; return access(p, F_OK); }
WEAK int lchown(const char *p, uid_t u, gid_t g) { (void)u; (void)g; struct stat st; return lstat(p, &st); }
WEAK int fchown(int fd, uid_t u, gid_t g) { (void)u; (void)g; struct stat st; return fstat(fd, &st); }

WEAK int mknod(const char *p, mode_t m, dev_t d) { (void)p; (void)m; (void)d; errno = EPERM; return -1; }
WEAK int chroot(const char *p) { (void)p; errno = EPERM; return -1; }
WEAK int getpagesize(void) { return 65536; }
WEAK int clock_settime(clockid_t c, const struct timespec *t) { (void)c; (void)t; errno = EPERM; return -1; }
WEAK int settimeofday(const struct timeval *t, const void *z) { (void)t; (void)z; errno = EPERM; return -1; }

static int make_temp(char *tmpl, int dir) {
    static unsigned long seq;
    size_t n = strlen(tmpl);
    if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX")) {
        errno = EINVAL;
        return -1;
    }
    for (int tries = 0; tries < 1000; tries++) {
        unsigned long v = (unsigned long)getpid() * 7919u + seq++ * 104729u + (unsigned long)tries;
        for (int i = 0; i < 6; i++, v /= 36) tmpl[n - 6 + i] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        if (dir) {
            if (mkdir(tmpl, 0700) == 0) return 0;
        } else {
            int fd = open(tmpl, O_RDWR | O_CREAT | O_EXCL, 0600);
            if (fd >= 0) return fd;
        }
        if (errno != EEXIST) return -1;
    }
    return -1;
}
WEAK int mkstemp(char *tmpl) { return make_temp(tmpl, 0); }
WEAK char *mkdtemp(char *tmpl) { return make_temp(tmpl, 1) < 0 ? NULL : tmpl; }
WEAK char *mktemp(char *tmpl) {
    int fd = make_temp(tmpl, 0);
    if (fd < 0) {
        tmpl[0] = 0;
        return tmpl;
    }
    close(fd);
    unlink(tmpl);
    return tmpl;
}


WEAK void tzset(void) {}

/* Root is in group 0 only; setting other supplementary groups fails. */
WEAK int initgroups(const char *user, gid_t group) {
    (void)user;
    if (group != 0) {
        errno = EPERM;
        return -1;
    }
    return 0;
}
WEAK void endgrent(void) {}

/* Every session is root's. */
WEAK int getlogin_r(char *buf, size_t len) {
    if (len < 5) return ERANGE;
    memcpy(buf, "root", 5);
    return 0;
}
