/* Terminals and pseudo-terminals over host_proc.ioctl (SPEC.md): termios
 * (tcgetattr, tcsetattr, the cf* speed helpers, cfmakeraw), line control
 * (tcflush, tcdrain, tcflow, tcsendbreak), job control (tcgetpgrp,
 * tcsetpgrp, tcgetsid), window sizes, ttyname, and the PTY calls
 * (posix_openpt, grantpt, unlockpt, ptsname, openpty, login_tty). isatty()
 * lives in isatty.c. Speeds follow musl: the speed is the CBAUD bits of
 * c_cflag, input speed = output speed; the setters also mirror the baud
 * rate into __c_ispeed/__c_ospeed as numbers, as the kernel reports them.
 *
 * wasi-libc's open() cannot pass O_NOCTTY (it is 0 there), so a session
 * leader without a controlling tty that opens a slave acquires it, even
 * through openpty(). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "host_proc.h"
#include "internal.h"

/* fd.c: open() with the SDK's O_CLOEXEC. */
int __sidecar_open(const char *path, int flags, ...);

static int32_t ioctl_ptr(int fd, uint32_t req, void *p) {
    return __host_proc_ioctl(fd, req, HP(p));
}

static int32_t ioctl_val(int fd, uint32_t req, uint32_t v) {
    return __host_proc_ioctl(fd, req, v);
}

/* ---- termios ---- */

int tcgetattr(int fd, struct termios *t) { return errno_ret(ioctl_ptr(fd, TCGETS, t)); }

int tcsetattr(int fd, int act, const struct termios *t) {
    uint32_t req;
    switch (act) {
    case TCSANOW:
        req = TCSETS;
        break;
    case TCSADRAIN:
        req = TCSETSW;
        break;
    case TCSAFLUSH:
        req = TCSETSF;
        break;
    default:
        return errno_ret(EINVAL);
    }
    return errno_ret(ioctl_ptr(fd, req, (void *)t));
}

static const unsigned bauds[] = {
    0,      50,     75,     110,     134,     150,     200,     300,
    600,    1200,   1800,   2400,    4800,    9600,    19200,   38400,
    0,      57600,  115200, 230400,  460800,  500000,  576000,  921600,
    1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
};

/* B* code (CBAUD bits) -> baud rate. */
static unsigned baud_of(speed_t s) {
    return bauds[(s & 017) | ((s & CBAUDEX) ? 020 : 0)];
}

speed_t cfgetospeed(const struct termios *t) { return t->c_cflag & CBAUD; }

speed_t cfgetispeed(const struct termios *t) { return cfgetospeed(t); }

int cfsetospeed(struct termios *t, speed_t speed) {
    if (speed & ~(speed_t)CBAUD) return errno_ret(EINVAL);
    t->c_cflag = (t->c_cflag & ~(tcflag_t)CBAUD) | speed;
    t->__c_ospeed = t->__c_ispeed = baud_of(speed);
    return 0;
}

/* 0 means "the same as the output speed", which it always is here. */
int cfsetispeed(struct termios *t, speed_t speed) { return speed ? cfsetospeed(t, speed) : 0; }

int cfsetspeed(struct termios *t, speed_t speed) { return cfsetospeed(t, speed); }

void cfmakeraw(struct termios *t) {
    t->c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t->c_oflag &= ~(tcflag_t)OPOST;
    t->c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t->c_cflag |= CS8;
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
}

/* ---- line control ---- */

int tcflush(int fd, int queue) { return errno_ret(ioctl_val(fd, TCFLSH, (uint32_t)queue)); }

int tcdrain(int fd) { return errno_ret(ioctl_val(fd, TCSBRK, 1)); }

int tcflow(int fd, int action) { return errno_ret(ioctl_val(fd, TCXONC, (uint32_t)action)); }

int tcsendbreak(int fd, int duration) {
    (void)duration;
    return errno_ret(ioctl_val(fd, TCSBRK, 0));
}

/* ---- job control and window size ---- */

pid_t tcgetpgrp(int fd) {
    int32_t pgrp;
    if (errno_ret(ioctl_ptr(fd, TIOCGPGRP, &pgrp))) return -1;
    return pgrp;
}

int tcsetpgrp(int fd, pid_t pgrp) {
    int32_t v = pgrp;
    return errno_ret(ioctl_ptr(fd, TIOCSPGRP, &v));
}

pid_t tcgetsid(int fd) {
    int32_t sid;
    if (errno_ret(ioctl_ptr(fd, TIOCGSID, &sid))) return -1;
    return sid;
}

int tcgetwinsize(int fd, struct winsize *w) { return errno_ret(ioctl_ptr(fd, TIOCGWINSZ, w)); }

int tcsetwinsize(int fd, const struct winsize *w) {
    return errno_ret(ioctl_ptr(fd, TIOCSWINSZ, (void *)w));
}

/* ---- names ---- */

/* Whether fd is a PTY master: TIOCGPTLCK answers only on masters (Linux
 * 3.8+). TIOCGPTN does not tell: sidecar answers it on slaves too. */
static int is_master(int fd) {
    int32_t locked;
    return ioctl_ptr(fd, TIOCGPTLCK, &locked) == 0;
}

/* Linux names a master "/dev/ptmx" (its /proc/self/fd link) and a slave
 * "/dev/pts/N". Returns an error number, as POSIX says. */
int ttyname_r(int fd, char *buf, size_t len) {
    uint32_t t[15];
    int32_t r = ioctl_ptr(fd, TCGETS, t);
    if (r) return r == EBADF ? EBADF : ENOTTY;
    uint32_t n;
    if (ioctl_ptr(fd, TIOCGPTN, &n)) return ENODEV;
    int w = is_master(fd) ? snprintf(buf, len, "/dev/ptmx") : snprintf(buf, len, "/dev/pts/%u", n);
    if (w < 0 || (size_t)w >= len) return ERANGE;
    return 0;
}

char *ttyname(int fd) {
    static char buf[32];
    int e = ttyname_r(fd, buf, sizeof buf);
    if (e) {
        errno = e;
        return NULL;
    }
    return buf;
}

/* ---- pseudo-terminals ---- */

int posix_openpt(int flags) {
    int fd = __sidecar_open("/dev/ptmx", flags);
    if (fd < 0 && errno == ENOSPC) errno = EAGAIN;
    return fd;
}

/* Nothing to grant (no owners or modes to fix); succeeds on a master. */
int grantpt(int fd) {
    uint32_t n;
    int32_t r = ioctl_ptr(fd, TIOCGPTN, &n);
    return r ? errno_ret(r == EBADF ? EBADF : EINVAL) : 0;
}

int unlockpt(int fd) {
    int32_t unlock = 0;
    int32_t r = ioctl_ptr(fd, TIOCSPTLCK, &unlock);
    return errno_ret(r == ENOTTY ? EINVAL : r);
}

int ptsname_r(int fd, char *buf, size_t len) {
    uint32_t n;
    int32_t r = ioctl_ptr(fd, TIOCGPTN, &n);
    if (r == 0) {
        int w = snprintf(buf, buf ? len : 0, "/dev/pts/%u", n);
        if (w < 0 || (size_t)w >= (buf ? len : 0)) r = ERANGE;
    }
    if (r) errno = r;
    return r;
}

char *ptsname(int fd) {
    static char buf[32];
    return ptsname_r(fd, buf, sizeof buf) ? NULL : buf;
}

int openpty(int *amaster, int *aslave, char *name, const struct termios *termp,
            const struct winsize *winp) {
    char buf[32];
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) return -1;
    if (unlockpt(m) || ptsname_r(m, buf, sizeof buf)) goto fail;
    int s = __sidecar_open(buf, O_RDWR | O_NOCTTY);
    if (s < 0) goto fail;
    if (termp) tcsetattr(s, TCSANOW, termp);
    if (winp) tcsetwinsize(s, winp);
    /* glibc and musl copy the name without a size either. */
    if (name) {
        size_t i = 0;
        do name[i] = buf[i];
        while (buf[i++]);
    }
    *amaster = m;
    *aslave = s;
    return 0;
fail:;
    int e = errno;
    close(m);
    errno = e;
    return -1;
}

int login_tty(int fd) {
    setsid();
    if (errno_ret(ioctl_val(fd, TIOCSCTTY, 0))) return -1;
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
    return 0;
}
