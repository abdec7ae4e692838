/* Force-included (-include) into every busybox source file: what busybox
 * uses that wasi-libc and the sidecar SDK do not declare. libbb compiles
 * all its files whichever applets are chosen, so everything must at least
 * be declared; compat.c defines (weakly) what the chosen applets link. */
#ifndef SIDECAR_BUSYBOX_COMPAT_H
#define SIDECAR_BUSYBOX_COMPAT_H

#include <stdio.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

/* No struct ifreq: leave out setsockopt_bindtodevice (libbb/xconnect.c).
 * sys/socket.h is included above, so a later include does not define it
 * again. */
#undef SO_BINDTODEVICE

/* wasi-libc gives FIFOs the socket type's bits (WASI has no FIFOs); use
 * Linux's so that libbb's mode_string.c and switch statements accept it. */
#undef S_IFIFO
#define S_IFIFO 0010000

int chown(const char *, uid_t, gid_t);
int lchown(const char *, uid_t, gid_t);
int fchown(int, uid_t, gid_t);
int mknod(const char *, mode_t, dev_t);
int chroot(const char *);
int fchdir(int);
unsigned alarm(unsigned);
int getpagesize(void);
int initgroups(const char *, gid_t);
void endgrent(void);
const char *hstrerror(int);
char *inet_ntoa(struct in_addr);
int mkstemp(char *);
char *mkdtemp(char *);
char *mktemp(char *);
int settimeofday(const struct timeval *, const void *);
int clock_settime(clockid_t, const struct timespec *);
/* wasi-libc declares tzset only for its unmodified upstream build; it has
 * no time zones (compat.c: nothing to do). */
void tzset(void);
int getlogin_r(char *, size_t);

/* Direct I/O is not offered: dd's iflag=direct/oflag=direct do plain I/O. */
#ifndef O_DIRECT
#define O_DIRECT 0
#endif

#endif
