/* fork and what is built on it or beside it: vfork, forkpty; system and
 * popen, which (as glibc's do since 2.29) use posix_spawn and copy no
 * memory.
 *
 * fork calls host_proc.fork, which returns twice. sidecar-cc runs Binaryen's
 * Asyncify over a program that links it (only the call paths to the import
 * are instrumented): the runtime unwinds the stack into fork_stack, copies
 * the instance and rewinds both copies. A module built otherwise gets
 * ENOSYS. A program built with the sjlj recipe, whose driver below main
 * already unwinds and rewinds the stack for setjmp, forks through that
 * driver instead (__sjlj_fork, over __sidecar_fork_here). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_proc.h"
#include "internal.h"

extern char **environ;

/* Room for the unwound stack: every instrumented frame's live locals. */
#define FORK_STACK (256 << 10)

/* Asyncify's record: the next free byte and the end of the buffer. */
static struct {
    uint32_t start, end;
} fork_data;
static char fork_stack[FORK_STACK] __attribute__((aligned(16)));

/* Defined by the sjlj recipe's driver when the program links it. */
pid_t __sjlj_fork(void) __attribute__((weak));

int __sidecar_fork_here(void (*entry)(void), pid_t *pid) {
    int32_t child = -1;
    int err = __host_proc_fork_here(HP(entry), HP(&child));
    if (err) return errno_ret(err);
    *pid = child;
    return 0;
}

pid_t fork(void) {
    if (__sjlj_fork) return __sjlj_fork();
    fork_data.start = HP(fork_stack);
    fork_data.end = HP(fork_stack + FORK_STACK);
    int32_t pid = -1;
    int err = __host_proc_fork(HP(&fork_data), HP(&pid));
    if (err) return errno_ret(err);
    return pid;
}

/* The child has its own copy of memory, so vfork is fork: a vfork + exec
 * behaves the same, and what POSIX leaves undefined after vfork is
 * defined here. */
pid_t vfork(void) { return fork(); }

pid_t forkpty(int *amaster, char *name, const struct termios *termp, const struct winsize *winp) {
    int m, s;
    if (openpty(&m, &s, name, termp, winp) < 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(m);
        close(s);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        close(m);
        if (login_tty(s) < 0) _exit(1);
        return 0;
    }
    close(s);
    *amaster = m;
    return pid;
}

/* ---- system ---- */

int system(const char *cmd) {
    if (!cmd) return access("/bin/sh", X_OK) == 0;
    /* As POSIX: SIGINT and SIGQUIT ignored and SIGCHLD blocked in the
     * caller while the command runs; the child starts with the caller's
     * original dispositions and mask. */
    struct sigaction ign = {0}, old_int, old_quit;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    sigset_t chld, old_mask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old_mask);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t def;
    sigemptyset(&def);
    if (old_int.sa_handler != SIG_IGN) sigaddset(&def, SIGINT);
    if (old_quit.sa_handler != SIG_IGN) sigaddset(&def, SIGQUIT);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &old_mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    int status = -1;
    if (err == 0) {
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                status = -1;
                break;
            }
        }
    } else {
        /* glibc: a shell that cannot run is status 127. */
        status = 127 << 8;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return status;
}

/* ---- popen ---- */

/* The child of each open popen stream, for pclose, and for the child of a
 * later popen to close (POSIX: streams from earlier popen calls). */
static struct popen_entry {
    FILE *f;
    pid_t pid;
    struct popen_entry *next;
} *popen_list;

FILE *popen(const char *cmd, const char *mode) {
    int reading = mode[0] == 'r', cloexec = strchr(mode, 'e') != NULL;
    if ((mode[0] != 'r' && mode[0] != 'w') || (mode[1] && mode[1] != 'e')) {
        errno = EINVAL;
        return NULL;
    }
    struct popen_entry *e = malloc(sizeof *e);
    if (!e) return NULL;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        free(e);
        return NULL;
    }
    int mine = reading ? p[0] : p[1], theirs = reading ? p[1] : p[0];
    int target = reading ? 1 : 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, theirs, target);
    for (struct popen_entry *o = popen_list; o; o = o->next)
        posix_spawn_file_actions_addclose(&fa, fileno(o->f));
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(theirs);
    if (err) {
        close(mine);
        free(e);
        errno = err;
        return NULL;
    }
    if (!cloexec) fcntl(mine, F_SETFD, 0);
    FILE *f = fdopen(mine, reading ? "r" : "w");
    if (!f) {
        close(mine);
        free(e);
        return NULL;
    }
    e->f = f;
    e->pid = pid;
    e->next = popen_list;
    popen_list = e;
    return f;
}

int pclose(FILE *f) {
    struct popen_entry **at = &popen_list;
    while (*at && (*at)->f != f) at = &(*at)->next;
    if (!*at) {
        errno = ECHILD;
        return -1;
    }
    struct popen_entry *e = *at;
    *at = e->next;
    pid_t pid = e->pid;
    free(e);
    fclose(f);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return status;
}
