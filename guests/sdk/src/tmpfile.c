/* Temporary files, which wasi-libc leaves out ("WASI has no temp
 * directories"; the sidecar's VMs have /tmp). As in musl: the trailing
 * XXXXXX (before a suffix of `len` characters) becomes random characters,
 * and a name that exists is retried, up to 100 times, then EEXIST. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The XXXXXX of `t` (before `len` suffix characters), or NULL (EINVAL). */
static char *placeholder(char *t, int len) {
    size_t n = strlen(t);
    if (len < 0 || n < 6 + (size_t)len || memcmp(t + n - len - 6, "XXXXXX", 6) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return t + n - len - 6;
}

static void randname(char *x) {
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[6];
    if (getentropy(r, sizeof r) != 0) memset(r, 0, sizeof r);
    for (int i = 0; i < 6; i++) x[i] = chars[r[i] % (sizeof chars - 1)];
}

int mkostemps(char *t, int len, int flags) {
    char *x = placeholder(t, len);
    if (!x) return -1;
    for (int tries = 100; tries; tries--) {
        randname(x);
        int fd = open(t, flags | O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    memcpy(x, "XXXXXX", 6);
    return -1;
}

int mkstemps(char *t, int len) { return mkostemps(t, len, 0); }
int mkostemp(char *t, int flags) { return mkostemps(t, 0, flags); }
int mkstemp(char *t) { return mkostemps(t, 0, 0); }

char *mkdtemp(char *t) {
    char *x = placeholder(t, 0);
    if (!x) return NULL;
    for (int tries = 100; tries; tries--) {
        randname(x);
        if (mkdir(t, 0700) == 0) return t;
        if (errno != EEXIST) break;
    }
    memcpy(x, "XXXXXX", 6);
    return NULL;
}

/* Unsafe by design (the name may be taken before it is used), kept for old
 * programs: a name that did not exist when checked, or "" on failure. */
char *mktemp(char *t) {
    char *x = placeholder(t, 0);
    struct stat st;
    if (!x) {
        *t = 0;
        return t;
    }
    for (int tries = 100; tries; tries--) {
        randname(x);
        if (lstat(t, &st) != 0) {
            if (errno != ENOENT) *t = 0;
            return t;
        }
    }
    *t = 0;
    errno = EEXIST;
    return t;
}
