/* posix_spawn/posix_spawnp and their attribute and file-action helpers,
 * over host_proc.spawn. The caller's getcwd() is passed as the child's cwd. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_proc.h"

struct action {
    uint32_t op;
    int fd, newfd;
    uint32_t oflag, mode;
    char *path;
};

#define ATTR_KNOWN_FLAGS                                                        \
    (POSIX_SPAWN_RESETIDS | POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |  \
     POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSCHEDPARAM |                      \
     POSIX_SPAWN_SETSCHEDULER | POSIX_SPAWN_USEVFORK | POSIX_SPAWN_SETSID)

int posix_spawnattr_init(posix_spawnattr_t *a) {
    memset(a, 0, sizeof *a);
    return 0;
}

int posix_spawnattr_destroy(posix_spawnattr_t *a) {
    (void)a;
    return 0;
}

int posix_spawnattr_setflags(posix_spawnattr_t *a, short flags) {
    if ((unsigned short)flags & ~(unsigned)ATTR_KNOWN_FLAGS) return EINVAL;
    a->__flags = (unsigned short)flags;
    return 0;
}

int posix_spawnattr_getflags(const posix_spawnattr_t *restrict a, short *restrict flags) {
    *flags = (short)a->__flags;
    return 0;
}

int posix_spawnattr_setpgroup(posix_spawnattr_t *a, pid_t pgrp) {
    a->__pgrp = pgrp;
    return 0;
}

int posix_spawnattr_getpgroup(const posix_spawnattr_t *restrict a, pid_t *restrict pgrp) {
    *pgrp = a->__pgrp;
    return 0;
}

int posix_spawnattr_setsigmask(posix_spawnattr_t *restrict a, const sigset_t *restrict m) {
    a->__mask = *m;
    return 0;
}

int posix_spawnattr_getsigmask(const posix_spawnattr_t *restrict a, sigset_t *restrict m) {
    *m = a->__mask;
    return 0;
}

int posix_spawnattr_setsigdefault(posix_spawnattr_t *restrict a, const sigset_t *restrict d) {
    a->__def = *d;
    return 0;
}

int posix_spawnattr_getsigdefault(const posix_spawnattr_t *restrict a, sigset_t *restrict d) {
    *d = a->__def;
    return 0;
}

int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa) {
    memset(fa, 0, sizeof *fa);
    return 0;
}

int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa) {
    struct action *acts = fa->__actions;
    for (int i = 0; i < fa->__len; i++) free(acts[i].path);
    free(acts);
    memset(fa, 0, sizeof *fa);
    return 0;
}

static int add_action(posix_spawn_file_actions_t *fa, struct action act) {
    if (fa->__len == fa->__cap) {
        int cap = fa->__cap ? 2 * fa->__cap : 4;
        struct action *n = realloc(fa->__actions, (size_t)cap * sizeof *n);
        if (!n) {
            free(act.path);
            return ENOMEM;
        }
        fa->__actions = n;
        fa->__cap = cap;
    }
    ((struct action *)fa->__actions)[fa->__len++] = act;
    return 0;
}

int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd) {
    if (fd < 0) return EBADF;
    return add_action(fa, (struct action){.op = SC_SPAWN_ACT_CLOSE, .fd = fd});
}

int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd) {
    if (fd < 0 || newfd < 0) return EBADF;
    return add_action(fa, (struct action){.op = SC_SPAWN_ACT_DUP2, .fd = fd, .newfd = newfd});
}

int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *restrict fa, int fd,
                                     const char *restrict path, int oflag, mode_t mode) {
    if (fd < 0) return EBADF;
    int bad = 0;
    uint32_t lx = __sidecar_oflags_to_linux(oflag, &bad);
    if (bad) return EINVAL;
    char *p = strdup(path);
    if (!p) return ENOMEM;
    return add_action(fa, (struct action){.op = SC_SPAWN_ACT_OPEN, .fd = fd, .newfd = fd,
                                          .oflag = lx, .mode = mode, .path = p});
}

int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *restrict fa,
                                         const char *restrict path) {
    char *p = strdup(path);
    if (!p) return ENOMEM;
    return add_action(fa, (struct action){.op = SC_SPAWN_ACT_CHDIR, .path = p});
}

/* Lay NUL-terminated strings end to end. *out is malloc'd (or NULL when the
 * list is empty). */
static int pack_strings(char *const list[], char **out, uint32_t *len) {
    size_t total = 0;
    *out = NULL;
    *len = 0;
    if (!list) return 0;
    for (size_t i = 0; list[i]; i++) total += strlen(list[i]) + 1;
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

static uint64_t sigset_bits(const sigset_t *s) {
    uint64_t bits = 0;
    for (int sig = 1; sig <= 64; sig++)
        if (sigismember(s, sig) == 1) bits |= (uint64_t)1 << (sig - 1);
    return bits;
}

int posix_spawn(pid_t *restrict pid, const char *restrict path,
                const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                char *const *restrict argv, char *const *restrict envp) {
    char *argbuf = NULL, *envbuf = NULL, *cwd = NULL;
    uint32_t arglen = 0, envlen = 0;
    struct sidecar_spawn_action *acts = NULL;
    uint32_t nacts = 0;
    struct sidecar_spawn_attr a;
    int err;

    memset(&a, 0, sizeof a);
    if ((err = pack_strings(argv, &argbuf, &arglen))) goto out;
    if ((err = pack_strings(envp, &envbuf, &envlen))) goto out;

    if (fa && fa->__len > 0) {
        const struct action *src = fa->__actions;
        acts = calloc((size_t)fa->__len, sizeof *acts);
        if (!acts) {
            err = ENOMEM;
            goto out;
        }
        for (int i = 0; i < fa->__len; i++) {
            acts[i].op = src[i].op;
            acts[i].fd = src[i].fd;
            acts[i].newfd = src[i].newfd;
            acts[i].oflag = src[i].oflag;
            acts[i].mode = src[i].mode;
            if (src[i].path) {
                acts[i].path = HP(src[i].path);
                acts[i].path_len = (uint32_t)strlen(src[i].path);
            }
        }
        nacts = (uint32_t)fa->__len;
    }

    if (attr) {
        int f = attr->__flags;
        if (f & POSIX_SPAWN_SETPGROUP) {
            a.flags |= SC_ATTR_SETPGROUP;
            a.pgroup = attr->__pgrp;
        }
        if (f & POSIX_SPAWN_SETSID) a.flags |= SC_ATTR_SETSID;
        if (f & POSIX_SPAWN_SETSIGDEF) {
            a.flags |= SC_ATTR_SETSIGDEF;
            a.sigdefault = sigset_bits(&attr->__def);
        }
        if (f & POSIX_SPAWN_SETSIGMASK) {
            a.flags |= SC_ATTR_SETSIGMASK;
            a.sigmask = sigset_bits(&attr->__mask);
        }
    }

    cwd = getcwd(NULL, 0);
    if (!cwd) {
        err = errno ? errno : ENOMEM;
        goto out;
    }
    a.cwd = HP(cwd);
    a.cwd_len = (uint32_t)strlen(cwd);

    int32_t child = 0;
    err = __host_proc_spawn(HP(path), (uint32_t)strlen(path), HP(argbuf), arglen, HP(envbuf),
                            envlen, HP(acts), nacts, HP(&a), HP(&child));
    if (err == 0 && pid) *pid = child;

out:
    free(argbuf);
    free(envbuf);
    free(acts);
    free(cwd);
    return err;
}

int posix_spawnp(pid_t *restrict pid, const char *restrict file,
                 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                 char *const *restrict argv, char *const *restrict envp) {
    if (!*file) return ENOENT;
    if (strchr(file, '/')) return posix_spawn(pid, file, fa, attr, argv, envp);

    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    size_t flen = strlen(file);
    int seen_eacces = 0;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        if (!end) end = p + strlen(p);
        size_t dlen = (size_t)(end - p);
        char *cand = malloc(dlen + flen + 2);
        if (!cand) return ENOMEM;
        if (dlen) {
            memcpy(cand, p, dlen);
            cand[dlen] = '/';
            memcpy(cand + dlen + 1, file, flen + 1);
        } else {
            memcpy(cand, file, flen + 1); /* empty element: the cwd */
        }
        /* Like execvp: skip names that do not exist; remember EACCES
         * (e.g. a directory) in case nothing better turns up. */
        struct stat st;
        int exists = stat(cand, &st) == 0;
        if (exists && !S_ISDIR(st.st_mode)) {
            int r = posix_spawn(pid, cand, fa, attr, argv, envp);
            free(cand);
            if (r != EACCES) return r;
            seen_eacces = 1;
        } else {
            if (exists || errno == EACCES) seen_eacces = 1;
            free(cand);
        }
        if (!*end) break;
        p = end;
    }
    return seen_eacces ? EACCES : ENOENT;
}
