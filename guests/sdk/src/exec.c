/* The exec family. The exec calls replace the process image in place
 * (host_proc.execve: same pid, fds without FD_CLOEXEC, caught signals back
 * to SIG_DFL, `#!` scripts), with glibc's behaviour for the PATH search of
 * execvp/execvpe/execlp (ENOEXEC runs the file with /bin/sh). fork is in
 * fork.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_proc.h"
#include "internal.h"

extern char **environ;

/* Lays NUL-terminated strings end to end into *out (malloc'd; NULL when the
 * list is empty). Returns 0 or an errno. */
static int pack(char *const list[], char **out, uint32_t *len) {
    size_t total = 0;
    *out = NULL;
    *len = 0;
    if (!list) return 0;
    for (size_t i = 0; list[i]; i++) {
        total += strlen(list[i]) + 1;
        if (total > UINT32_MAX) return E2BIG;
    }
    if (total == 0) return 0;
    char *buf = malloc(total);
    if (!buf) return ENOMEM;
    char *p = buf;
    for (size_t i = 0; list[i]; i++) {
        size_t n = strlen(list[i]) + 1;
        memcpy(p, list[i], n);
        p += n;
    }
    *out = buf;
    *len = (uint32_t)total;
    return 0;
}

int execve(const char *path, char *const argv[], char *const envp[]) {
    char *argbuf = NULL, *envbuf = NULL, *cwd = NULL;
    uint32_t arglen = 0, envlen = 0;
    int err;
    if ((err = pack(argv, &argbuf, &arglen))) goto out;
    if ((err = pack(envp, &envbuf, &envlen))) goto out;
    /* The kernel does not see chdir (wasi-libc keeps the cwd): pass it, as
     * posix_spawn does, so relative paths and the new image use it. */
    cwd = getcwd(NULL, 0);
    if (!cwd) {
        err = errno ? errno : ENOMEM;
        goto out;
    }
    err = __host_proc_execve(HP(path), (uint32_t)strlen(path), HP(argbuf), arglen, HP(envbuf),
                             envlen, HP(cwd), (uint32_t)strlen(cwd));
out:
    /* Only reached on failure. */
    free(argbuf);
    free(envbuf);
    free(cwd);
    return errno_ret(err ? err : EIO);
}

int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

/* glibc's maybe_script_execute: a file the kernel would not run (ENOEXEC)
 * is run by /bin/sh. */
static void script_execute(const char *file, char *const argv[], char *const envp[]) {
    size_t argc = 0;
    while (argv && argv[argc]) argc++;
    char **nargv = malloc((argc > 1 ? argc + 2 : 3) * sizeof *nargv);
    if (!nargv) return;
    nargv[0] = (char *)"/bin/sh";
    nargv[1] = (char *)file;
    if (argc > 1) {
        for (size_t i = 1; i <= argc; i++) nargv[i + 1] = argv[i];
    } else {
        nargv[2] = NULL;
    }
    execve(nargv[0], nargv, envp);
    free(nargv);
}

/* glibc's __execvpe_common. */
int execvpe(const char *file, char *const argv[], char *const envp[]) {
    if (*file == '\0') return errno_ret(ENOENT);
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        if (errno == ENOEXEC) script_execute(file, argv, envp);
        return -1;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    size_t file_len = strnlen(file, NAME_MAX) + 1;
    size_t path_len = strnlen(path, PATH_MAX - 1) + 1;
    if (file_len > NAME_MAX) return errno_ret(ENAMETOOLONG);
    char *buffer = malloc(path_len + file_len + 1);
    if (!buffer) return -1;
    int got_eacces = 0;
    for (const char *p = path;; ) {
        const char *subp = strchrnul(p, ':');
        if ((size_t)(subp - p) < path_len) {
            char *pend = mempcpy(buffer, p, (size_t)(subp - p));
            *pend = '/';
            memcpy(pend + (p < subp), file, file_len);
            execve(buffer, argv, envp);
            if (errno == ENOEXEC) script_execute(buffer, argv, envp);
            switch (errno) {
            case EACCES:
                got_eacces = 1;
                /* fall through */
            case ENOENT:
            case ESTALE:
            case ENOTDIR:
            case ENODEV:
            case ETIMEDOUT:
                break;
            default:
                free(buffer);
                return -1;
            }
        }
        if (*subp++ == '\0') break;
        p = subp;
    }
    free(buffer);
    if (got_eacces) errno = EACCES;
    return -1;
}

int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

/* The arguments of execl/execlp/execle as an argv (malloc'd), and for
 * execle the environment after the terminating NULL. */
static char **collect(const char *arg, va_list ap, char ***envp) {
    va_list count;
    va_copy(count, ap);
    size_t n = 1;
    if (arg)
        while (va_arg(count, char *)) n++;
    va_end(count);
    char **argv = malloc((n + 1) * sizeof *argv);
    if (!argv) return NULL;
    argv[0] = (char *)arg;
    if (arg) {
        for (size_t i = 1; i < n; i++) argv[i] = va_arg(ap, char *);
        (void)va_arg(ap, char *); /* the terminating NULL */
        argv[n] = NULL;
    } else {
        argv[0] = NULL;
    }
    if (envp) *envp = va_arg(ap, char **);
    return argv;
}

int execl(const char *path, const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    char **argv = collect(arg, ap, NULL);
    va_end(ap);
    if (!argv) return -1;
    execve(path, argv, environ);
    free(argv);
    return -1;
}

int execlp(const char *file, const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    char **argv = collect(arg, ap, NULL);
    va_end(ap);
    if (!argv) return -1;
    execvp(file, argv);
    free(argv);
    return -1;
}

int execle(const char *path, const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    char **envp;
    char **argv = collect(arg, ap, &envp);
    va_end(ap);
    if (!argv) return -1;
    execve(path, argv, envp);
    free(argv);
    return -1;
}
