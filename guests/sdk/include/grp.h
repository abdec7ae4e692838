/* sidecar SDK: <grp.h> declarations (POSIX; layout as in musl/Linux).
 * wasi-libc 2022-05 ships no <grp.h>. Implemented by the shim (src/ids.c):
 * the VM's /etc/group when present, and group root (gid 0) always. */
#ifndef _GRP_H
#define _GRP_H

#include <features.h>

#define __NEED_size_t
#define __NEED_gid_t
#include <bits/alltypes.h>

#ifdef __cplusplus
extern "C" {
#endif

struct group {
    char *gr_name;
    char *gr_passwd;
    gid_t gr_gid;
    char **gr_mem;
};

struct group *getgrgid(gid_t);
struct group *getgrnam(const char *);
int getgrgid_r(gid_t, struct group *, char *, size_t, struct group **);
int getgrnam_r(const char *, struct group *, char *, size_t, struct group **);
int getgroups(int, gid_t[]);
void setgrent(void);
void endgrent(void);
struct group *getgrent(void);
/* BSD/glibc: every group is the one given (the VM has no supplementary
 * groups). */
int getgrouplist(const char *, gid_t, gid_t *, int *);

#ifdef __cplusplus
}
#endif

#endif
