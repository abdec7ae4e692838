/* Definitions for what busybox links and wasi-libc and the SDK lack. Weak,
 * and linked from an archive after the SDK's shim, so that an SDK
 * implementation, once there, wins. sidecar has no users, permission bits
 * or device nodes: every process is root, ownership and mode changes
 * succeed on existing files and change nothing, the user and group
 * databases hold only root, mknod fails. popen/pclose/system run
 * `sh -c` through posix_spawn; fork/vfork/exec* fail with ENOSYS (the
 * libbb paths that use them are not reached by the applets built). */
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

WEAK uid_t getuid(void) { return 0; }
WEAK uid_t geteuid(void) { return 0; }
WEAK gid_t getgid(void) { return 0; }
WEAK gid_t getegid(void) { return 0; }
WEAK int chown(const char *p, uid_t u, gid_t g) { (void)u; (void)g; return access(p, F_OK); }
WEAK int lchown(const char *p, uid_t u, gid_t g) { (void)u; (void)g; struct stat st; return lstat(p, &st); }
WEAK int fchown(int fd, uid_t u, gid_t g) { (void)u; (void)g; struct stat st; return fstat(fd, &st); }
WEAK int chmod(const char *p, mode_t m) { (void)m; return access(p, F_OK); }
WEAK int fchmod(int fd, mode_t m) { (void)m; struct stat st; return fstat(fd, &st); }
WEAK int getgroups(int n, gid_t *list) {
    if (n > 0) list[0] = 0;
    return 1;
}
WEAK struct passwd *getpwuid(uid_t uid) {
    static struct passwd root = {"root", "x", 0, 0, "root", "/root", "/bin/sh"};
    return uid == 0 ? &root : NULL;
}
WEAK struct passwd *getpwnam(const char *name) { return strcmp(name, "root") ? NULL : getpwuid(0); }
WEAK struct group *getgrgid(gid_t gid) {
    static char *none[] = {NULL};
    static struct group root = {"root", "x", 0, none};
    return gid == 0 ? &root : NULL;
}
WEAK struct group *getgrnam(const char *name) { return strcmp(name, "root") ? NULL : getgrgid(0); }
WEAK pid_t fork(void) { errno = ENOSYS; return -1; }
WEAK pid_t vfork(void) { errno = ENOSYS; return -1; }
WEAK int execve(const char *p, char *const a[], char *const e[]) { (void)p; (void)a; (void)e; errno = ENOSYS; return -1; }
WEAK int execv(const char *p, char *const a[]) { return execve(p, a, environ); }
WEAK int execvp(const char *p, char *const a[]) { return execve(p, a, environ); }

/* realpath: absolute, symlinks resolved (through the VFS), no . or .. */
WEAK char *realpath(const char *path, char *resolved) {
    char out[PATH_MAX], rest[PATH_MAX], link[PATH_MAX];
    int links = 0;
    size_t olen;
    if (!path || !*path) {
        errno = path ? ENOENT : EINVAL;
        return NULL;
    }
    if (strlen(path) >= sizeof rest) goto toolong;
    strcpy(rest, path);
    if (rest[0] == '/') {
        olen = 0;
    } else {
        if (!getcwd(out, sizeof out)) return NULL;
        olen = strlen(out);
        if (olen == 1) olen = 0; /* "/" */
    }
    out[olen] = 0;
    char *p = rest;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 1 && p[0] == '.') {
            p = end;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (olen > 0 && out[--olen] != '/') {}
            out[olen] = 0;
            p = end;
            continue;
        }
        if (olen + 1 + n >= sizeof out) goto toolong;
        out[olen] = '/';
        memcpy(out + olen + 1, p, n);
        out[olen + 1 + n] = 0;
        struct stat st;
        if (lstat(out, &st) < 0) return NULL;
        if (S_ISLNK(st.st_mode)) {
            if (++links > 40) {
                errno = ELOOP;
                return NULL;
            }
            ssize_t l = readlink(out, link, sizeof link - 1);
            if (l < 0) return NULL;
            link[l] = 0;
            if (l + strlen(end) >= sizeof link) goto toolong;
            strcat(link, end);
            strcpy(rest, link);
            p = rest;
            if (link[0] == '/') olen = 0;
            out[olen] = 0;
            continue;
        }
        olen += 1 + n;
        p = end;
    }
    if (olen == 0) strcpy(out, "/");
    if (!resolved) return strdup(out);
    return strcpy(resolved, out);
toolong:
    errno = ENAMETOOLONG;
    return NULL;
}
WEAK int mknod(const char *p, mode_t m, dev_t d) { (void)p; (void)m; (void)d; errno = EPERM; return -1; }
WEAK int chroot(const char *p) { (void)p; errno = EPERM; return -1; }
WEAK int getpagesize(void) { return 65536; }
WEAK mode_t umask(mode_t mask) {
    static mode_t cur = 022;
    mode_t old = cur;
    cur = mask & 0777;
    return old;
}
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
