/* sidecar SDK: <unistd.h> = wasi-libc's plus the process and fd calls that
 * the sidecar `host_proc` ABI provides (implemented in libsidecar.a). */
#ifndef __SIDECAR_UNISTD_H
#define __SIDECAR_UNISTD_H

/* getpid() is real here (host_proc.getpid); silence wasi-libc's deprecation
 * without linking its placeholder library. */
#ifndef _WASI_EMULATED_GETPID
#define _WASI_EMULATED_GETPID
#endif

#include_next <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

int pipe(int[2]);
int dup(int);
int dup2(int, int);
pid_t getppid(void);
pid_t getpgrp(void);
pid_t getpgid(pid_t);
int setpgid(pid_t, pid_t);
pid_t setsid(void);
pid_t getsid(pid_t);
#if defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE) || defined(_BSD_SOURCE)
pid_t setpgrp(void);
#endif
int pause(void);
/* ITIMER_REAL, as on Linux (src/itimer.c; ualarm is declared upstream). */
unsigned alarm(unsigned);
/* Terminals (src/tty.c; isatty() is wasi-libc's declaration, replaced by
 * the shim's TCGETS-based one). */
char *ttyname(int);
int ttyname_r(int, char *, size_t);
pid_t tcgetpgrp(int);
int tcsetpgrp(int, pid_t);
/* wasi-libc hides these. User and group ids (src/ids.c: always root; the
 * set* calls fail with EPERM for any other id): */
uid_t getuid(void);
uid_t geteuid(void);
gid_t getgid(void);
gid_t getegid(void);
int setuid(uid_t);
int setgid(gid_t);
int seteuid(uid_t);
int setegid(gid_t);
int getgroups(int, gid_t[]);
/* Ownership (src/mode.c): every file is root's; changing it to root is
 * a no-op that checks the file exists, as Linux's chown as root is. */
int chown(const char *, uid_t, gid_t);
int fchown(int, uid_t, gid_t);
int lchown(const char *, uid_t, gid_t);
int fchownat(int, const char *, uid_t, gid_t, int);
/* fork and vfork copy the process (src/fork.c, over host_proc.fork; the
 * program must be linked by sidecar-cc, which instruments it). The exec
 * family replaces the process image as on Linux (src/exec.c, over
 * host_proc.execve). */
pid_t fork(void);
pid_t vfork(void);
int execve(const char *, char *const[], char *const[]);
int execv(const char *, char *const[]);
int execvp(const char *, char *const[]);
int execl(const char *, const char *, ...);
int execlp(const char *, const char *, ...);
int execle(const char *, const char *, ...);
/* Writes reach the host's kernel at once, so sync has nothing to do;
 * syncfs is fsync of the one file. */
void sync(void);
#ifdef _GNU_SOURCE
int syncfs(int);
int execvpe(const char *, char *const[], char *const[]);
int pipe2(int[2], int);
int dup3(int, int, int);
#endif

#ifndef __SIDECAR_SHIM_BUILD
/* openat() is routed through the shim so that O_CLOEXEC is honoured (see
 * <fcntl.h>); an asm label keeps the C name intact. */
int openat(int, const char *, int, ...) __asm__("__sidecar_openat");
/* sysconf() is routed through the shim (src/host.c) for _SC_OPEN_MAX,
 * which wasi-libc reports as -1 and Linux as RLIMIT_NOFILE's soft limit
 * (xtrans refuses every fd >= sysconf(_SC_OPEN_MAX)). */
long sysconf(int) __asm__("__sidecar_sysconf");
#endif

#ifdef __cplusplus
}
#endif

#endif
