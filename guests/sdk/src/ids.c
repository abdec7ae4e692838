/* User and group identity for a single-user sandbox: every guest runs as
 * root (uid 0, gid 0), as in a container. The ids never change: set*id()
 * succeeds for the current id and fails with EPERM for any other (the VM
 * has no other users to become). The user and group databases are read
 * from the VM's /etc/passwd and /etc/group when they exist; root (and its
 * group) is synthesised when the files or their entries are missing, with
 * $HOME (or /root) as its home directory and /bin/sh as its shell. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

uid_t getuid(void) { return 0; }
uid_t geteuid(void) { return 0; }
gid_t getgid(void) { return 0; }
gid_t getegid(void) { return 0; }

static int set_id(unsigned id) {
    if (id == (unsigned)-1) return errno_ret(EINVAL);
    if (id != 0) return errno_ret(EPERM);
    return 0;
}

int setuid(uid_t uid) { return set_id(uid); }
int setgid(gid_t gid) { return set_id(gid); }
int seteuid(uid_t uid) { return set_id(uid); }
int setegid(gid_t gid) { return set_id(gid); }

/* The supplementary group list is just the primary group. */
int getgroups(int size, gid_t list[]) {
    if (size == 0) return 1;
    if (size < 1) return errno_ret(EINVAL);
    list[0] = 0;
    return 1;
}

int getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups) {
    (void)user;
    int room = *ngroups;
    *ngroups = 1;
    if (room < 1) return -1;
    groups[0] = group;
    return 1;
}

/* ---- /etc/passwd and /etc/group lines ---- */

/* Splits line (NUL-terminated, no newline) at ':' into at most n fields.
 * Returns the number of fields found. */
static int split_fields(char *line, char **f, int n) {
    int i = 0;
    f[i++] = line;
    for (char *p = line; *p && i < n; p++) {
        if (*p == ':') {
            *p = '\0';
            f[i++] = p + 1;
        }
    }
    return i;
}

/* Parses a decimal id; returns -1 for anything else. */
static long parse_id(const char *s) {
    if (!*s) return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v > UINT32_MAX - 1) return -1;
    return (long)v;
}

/* Copies s into the caller's buffer; NULL when it does not fit. */
static char *put_str(char **buf, size_t *left, const char *s) {
    size_t n = strlen(s) + 1;
    if (n > *left) return NULL;
    char *d = *buf;
    memcpy(d, s, n);
    *buf += n;
    *left -= n;
    return d;
}

/* Reads the next line of f into *line (grown as needed), newline removed.
 * Returns 0 at the end of the file. */
static int next_line(FILE *f, char **line, size_t *cap) {
    ssize_t n = getline(line, cap, f);
    if (n < 0) return 0;
    if (n > 0 && (*line)[n - 1] == '\n') (*line)[n - 1] = '\0';
    return 1;
}

/* ---- passwd ---- */

/* Fills pw from the fields of one entry, its strings in buf. 0 or ERANGE. */
static int fill_passwd(struct passwd *pw, char *buf, size_t len, const char *name,
                       const char *passwd, uid_t uid, gid_t gid, const char *gecos,
                       const char *dir, const char *shell) {
    if (!(pw->pw_name = put_str(&buf, &len, name)) ||
        !(pw->pw_passwd = put_str(&buf, &len, passwd)) ||
        !(pw->pw_gecos = put_str(&buf, &len, gecos)) ||
        !(pw->pw_dir = put_str(&buf, &len, dir)) ||
        !(pw->pw_shell = put_str(&buf, &len, shell)))
        return ERANGE;
    pw->pw_uid = uid;
    pw->pw_gid = gid;
    return 0;
}

static const char *root_home(void) {
    const char *h = getenv("HOME");
    return h && *h ? h : "/root";
}

/* Looks up by name (name != NULL) or by uid. */
static int pw_lookup(const char *name, uid_t uid, struct passwd *pw, char *buf, size_t len,
                     struct passwd **result) {
    *result = NULL;
    FILE *f = fopen("/etc/passwd", "r");
    if (f) {
        char *line = NULL, *fl[7];
        size_t cap = 0;
        int r = -1;
        while (r < 0 && next_line(f, &line, &cap)) {
            if (split_fields(line, fl, 7) != 7) continue;
            long u = parse_id(fl[2]), g = parse_id(fl[3]);
            if (u < 0 || g < 0) continue;
            if (name ? strcmp(fl[0], name) != 0 : (uid_t)u != uid) continue;
            r = fill_passwd(pw, buf, len, fl[0], fl[1], (uid_t)u, (gid_t)g, fl[4], fl[5], fl[6]);
        }
        free(line);
        fclose(f);
        if (r >= 0) {
            if (r == 0) *result = pw;
            return r;
        }
    }
    if (name ? strcmp(name, "root") != 0 : uid != 0) return 0;
    int r = fill_passwd(pw, buf, len, "root", "x", 0, 0, "root", root_home(), "/bin/sh");
    if (r == 0) *result = pw;
    return r;
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
               struct passwd **result) {
    return pw_lookup(name, 0, pw, buf, len, result);
}

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **result) {
    return pw_lookup(NULL, uid, pw, buf, len, result);
}

static struct passwd pw_static;
static char *pw_buf;
static size_t pw_cap;

static struct passwd *pw_get(const char *name, uid_t uid) {
    struct passwd *res;
    int r;
    if (!pw_buf) {
        pw_cap = 256;
        if (!(pw_buf = malloc(pw_cap))) return NULL;
    }
    while ((r = pw_lookup(name, uid, &pw_static, pw_buf, pw_cap, &res)) == ERANGE) {
        char *b = realloc(pw_buf, pw_cap * 2);
        if (!b) return NULL;
        pw_buf = b;
        pw_cap *= 2;
    }
    if (r) errno = r;
    return res;
}

struct passwd *getpwnam(const char *name) { return pw_get(name, 0); }
struct passwd *getpwuid(uid_t uid) { return pw_get(NULL, uid); }

/* Enumeration: the file's entries, or the synthesised root alone. */
static FILE *pw_file;
static int pw_index;

void setpwent(void) {
    if (pw_file) fclose(pw_file);
    pw_file = NULL;
    pw_index = 0;
}

void endpwent(void) { setpwent(); }

struct passwd *getpwent(void) {
    if (pw_index == 0) {
        pw_file = fopen("/etc/passwd", "r");
        pw_index = 1;
        if (!pw_file) return getpwuid(0);
    }
    if (!pw_file) return NULL;
    static char *line;
    static size_t cap;
    char *fl[7];
    while (next_line(pw_file, &line, &cap)) {
        if (split_fields(line, fl, 7) != 7) continue;
        long u = parse_id(fl[2]), g = parse_id(fl[3]);
        if (u < 0 || g < 0) continue;
        pw_static.pw_name = fl[0];
        pw_static.pw_passwd = fl[1];
        pw_static.pw_uid = (uid_t)u;
        pw_static.pw_gid = (gid_t)g;
        pw_static.pw_gecos = fl[4];
        pw_static.pw_dir = fl[5];
        pw_static.pw_shell = fl[6];
        return &pw_static;
    }
    return NULL;
}

/* ---- group ---- */

/* Fills gr, its member array (pointer-aligned) and strings in buf. */
static int fill_group(struct group *gr, char *buf, size_t len, const char *name,
                      const char *passwd, gid_t gid, const char *members) {
    size_t n = 0;
    for (const char *p = members; *p; p++)
        if (*p == ',') n++;
    if (*members) n++;
    uintptr_t a = ((uintptr_t)buf + sizeof(char *) - 1) & ~(uintptr_t)(sizeof(char *) - 1);
    size_t skip = a - (uintptr_t)buf, need = (n + 1) * sizeof(char *);
    if (skip + need > len) return ERANGE;
    char **mem = (char **)a;
    buf += skip + need;
    len -= skip + need;
    if (!(gr->gr_name = put_str(&buf, &len, name)) ||
        !(gr->gr_passwd = put_str(&buf, &len, passwd)))
        return ERANGE;
    char *m = put_str(&buf, &len, members);
    if (!m) return ERANGE;
    size_t i = 0;
    if (*m) {
        mem[i++] = m;
        for (char *p = m; *p; p++) {
            if (*p == ',') {
                *p = '\0';
                mem[i++] = p + 1;
            }
        }
    }
    mem[i] = NULL;
    gr->gr_mem = mem;
    gr->gr_gid = gid;
    return 0;
}

static int gr_lookup(const char *name, gid_t gid, struct group *gr, char *buf, size_t len,
                     struct group **result) {
    *result = NULL;
    FILE *f = fopen("/etc/group", "r");
    if (f) {
        char *line = NULL, *fl[4];
        size_t cap = 0;
        int r = -1;
        while (r < 0 && next_line(f, &line, &cap)) {
            if (split_fields(line, fl, 4) != 4) continue;
            long g = parse_id(fl[2]);
            if (g < 0) continue;
            if (name ? strcmp(fl[0], name) != 0 : (gid_t)g != gid) continue;
            r = fill_group(gr, buf, len, fl[0], fl[1], (gid_t)g, fl[3]);
        }
        free(line);
        fclose(f);
        if (r >= 0) {
            if (r == 0) *result = gr;
            return r;
        }
    }
    if (name ? strcmp(name, "root") != 0 : gid != 0) return 0;
    int r = fill_group(gr, buf, len, "root", "x", 0, "");
    if (r == 0) *result = gr;
    return r;
}

int getgrnam_r(const char *name, struct group *gr, char *buf, size_t len,
               struct group **result) {
    return gr_lookup(name, 0, gr, buf, len, result);
}

int getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, struct group **result) {
    return gr_lookup(NULL, gid, gr, buf, len, result);
}

static struct group gr_static;
static char *gr_buf;
static size_t gr_cap;

static struct group *gr_get(const char *name, gid_t gid) {
    struct group *res;
    int r;
    if (!gr_buf) {
        gr_cap = 256;
        if (!(gr_buf = malloc(gr_cap))) return NULL;
    }
    while ((r = gr_lookup(name, gid, &gr_static, gr_buf, gr_cap, &res)) == ERANGE) {
        char *b = realloc(gr_buf, gr_cap * 2);
        if (!b) return NULL;
        gr_buf = b;
        gr_cap *= 2;
    }
    if (r) errno = r;
    return res;
}

struct group *getgrnam(const char *name) { return gr_get(name, 0); }
struct group *getgrgid(gid_t gid) { return gr_get(NULL, gid); }

/* Enumeration: the file's entries, or the synthesised root alone. */
static FILE *gr_file;
static int gr_index;

void setgrent(void) {
    if (gr_file) fclose(gr_file);
    gr_file = NULL;
    gr_index = 0;
}

void endgrent(void) { setgrent(); }

struct group *getgrent(void) {
    if (gr_index == 0) {
        gr_file = fopen("/etc/group", "r");
        gr_index = 1;
        if (!gr_file) return getgrgid(0);
    }
    if (!gr_file) return NULL;
    static char *line;
    static size_t cap;
    char *fl[4];
    while (next_line(gr_file, &line, &cap)) {
        if (split_fields(line, fl, 4) != 4) continue;
        long g = parse_id(fl[2]);
        if (g < 0) continue;
        if (!gr_buf && !(gr_buf = malloc(gr_cap = 256))) return NULL;
        int r;
        while ((r = fill_group(&gr_static, gr_buf, gr_cap, fl[0], fl[1], (gid_t)g, fl[3])) ==
               ERANGE) {
            char *b = realloc(gr_buf, gr_cap * 2);
            if (!b) return NULL;
            gr_buf = b;
            gr_cap *= 2;
        }
        return &gr_static;
    }
    return NULL;
}
