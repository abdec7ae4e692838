/* realpath(): the canonical absolute path, resolved component by component
 * with lstat and readlink (relative paths start from getcwd), as Linux
 * resolves it: every component must exist, "." and ".." are removed, and
 * symbolic links are followed (ELOOP after 40). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40

char *realpath(const char *restrict path, char *restrict resolved) {
    /* todo: what is left to resolve; out: the resolved prefix ("" = "/"). */
    char todo[PATH_MAX], out[PATH_MAX], link[PATH_MAX];
    size_t tlen, olen = 0;
    int links = 0;

    if (!path) {
        errno = EINVAL;
        return NULL;
    }
    if (!*path) {
        errno = ENOENT;
        return NULL;
    }
    tlen = strnlen(path, PATH_MAX);
    if (tlen == PATH_MAX) goto toolong;
    if (path[0] != '/') {
        if (!getcwd(todo, sizeof todo)) return NULL;
        size_t c = strlen(todo);
        if (c + 1 + tlen >= sizeof todo) goto toolong;
        todo[c] = '/';
        memcpy(todo + c + 1, path, tlen + 1);
        tlen += c + 1;
    } else {
        memcpy(todo, path, tlen + 1);
    }

    size_t pos = 0;
    for (;;) {
        while (todo[pos] == '/') pos++;
        if (!todo[pos]) break;
        size_t start = pos;
        while (todo[pos] && todo[pos] != '/') pos++;
        size_t clen = pos - start;
        int more = todo[pos] == '/';
        if (clen == 1 && todo[start] == '.') continue;
        if (clen == 2 && todo[start] == '.' && todo[start + 1] == '.') {
            while (olen > 0 && out[olen - 1] != '/') olen--;
            if (olen > 0) olen--;
            continue;
        }
        if (olen + 1 + clen >= sizeof out) goto toolong;
        out[olen] = '/';
        memcpy(out + olen + 1, todo + start, clen);
        out[olen + 1 + clen] = '\0';

        struct stat st;
        if (lstat(out, &st) != 0) return NULL;
        if (S_ISLNK(st.st_mode)) {
            if (++links > MAX_LINKS) {
                errno = ELOOP;
                return NULL;
            }
            ssize_t n = readlink(out, link, sizeof link);
            if (n < 0) return NULL;
            if ((size_t)n >= sizeof link) goto toolong;
            if (n == 0) {
                errno = ENOENT;
                return NULL;
            }
            /* todo = target + rest of todo */
            size_t rest = tlen - pos;
            if ((size_t)n + rest >= sizeof todo) goto toolong;
            memmove(todo + n, todo + pos, rest + 1);
            memcpy(todo, link, (size_t)n);
            tlen = (size_t)n + rest;
            pos = 0;
            if (link[0] == '/') olen = 0;
            continue;
        }
        if (more && !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return NULL;
        }
        olen += 1 + clen;
    }
    if (olen == 0) out[olen++] = '/';
    out[olen] = '\0';
    if (!resolved) return strdup(out);
    memcpy(resolved, out, olen + 1);
    return resolved;

toolong:
    errno = ENAMETOOLONG;
    return NULL;
}
