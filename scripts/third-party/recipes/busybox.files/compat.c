/* Definitions for what busybox links and neither wasi-libc nor the SDK has
 * (ids, passwd/group, chmod/umask, realpath, fork/exec come from the SDK).
 * Weak, and linked from an archive after the SDK's shim, so that an SDK
 * implementation, once there, wins. Ownership changes succeed on existing
 * files and change nothing, mknod fails; popen/pclose/system run `sh -c`
 * through posix_spawn; vfork fails with ENOSYS (the libbb paths that use it
 * are not reached by the applets built). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WEAK __attribute__((weak))

extern char **environ;

WEAK int chown(const char *p, uid_t u, gid_t g) { (void)u; (void)g; return access(p, F_OK); }
WEAK int lchown(const char *p, uid_t u, gid_t g) { (void)u; (void)g; struct stat st; return lstat(p, &st); }
WEAK int fchown(int fd, uid_t u, gid_t g) { (void)u; (void)g; struct stat st; return fstat(fd, &st); }
WEAK pid_t vfork(void) { errno = ENOSYS; return -1; }

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

static pid_t sh_spawn(const char *cmd, posix_spawn_file_actions_t *fa) {
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, "/bin/sh", fa, NULL, argv, environ);
    if (e) {
        errno = e;
        return -1;
    }
    return pid;
}

static struct popen_child {
    FILE *f;
    pid_t pid;
    struct popen_child *next;
} *children;

WEAK FILE *popen(const char *cmd, const char *mode) {
    int fds[2], reading = mode[0] == 'r';
    if ((mode[0] != 'r' && mode[0] != 'w') || pipe(fds) < 0) return NULL;
    int mine = reading ? fds[0] : fds[1], theirs = reading ? fds[1] : fds[0];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, theirs, reading ? 1 : 0);
    posix_spawn_file_actions_addclose(&fa, theirs);
    posix_spawn_file_actions_addclose(&fa, mine);
    for (struct popen_child *c = children; c; c = c->next)
        posix_spawn_file_actions_addclose(&fa, fileno(c->f));
    pid_t pid = sh_spawn(cmd, &fa);
    posix_spawn_file_actions_destroy(&fa);
    close(theirs);
    struct popen_child *c = malloc(sizeof *c);
    FILE *f = pid < 0 || !c ? NULL : fdopen(mine, mode);
    if (!f) {
        close(mine);
        free(c);
        if (pid > 0) waitpid(pid, NULL, 0);
        return NULL;
    }
    c->f = f;
    c->pid = pid;
    c->next = children;
    children = c;
    return f;
}

WEAK int pclose(FILE *f) {
    struct popen_child **pp = &children, *c;
    while ((c = *pp) && c->f != f) pp = &c->next;
    if (!c) {
        errno = ECHILD;
        return -1;
    }
    *pp = c->next;
    fclose(f);
    int st;
    pid_t pid = c->pid;
    free(c);
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return st;
}

WEAK int system(const char *cmd) {
    if (!cmd) return 1;
    pid_t pid = sh_spawn(cmd, NULL);
    if (pid < 0) return -1;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return st;
}
