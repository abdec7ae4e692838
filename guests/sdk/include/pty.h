/* sidecar SDK: <pty.h> (wasi-libc has none). openpty() and login_tty() are
 * implemented by libsidecar.a (src/tty.c), forkpty() by src/fork.c.
 * glibc and musl declare login_tty() in <utmp.h>; it is here as well as the
 * one place that SDK has for it. */
#ifndef _PTY_H
#define _PTY_H

#include <sys/types.h>
#include <termios.h>
#include <sys/ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

int openpty(int *, int *, char *, const struct termios *, const struct winsize *);
int login_tty(int);
pid_t forkpty(int *, char *, const struct termios *, const struct winsize *);

#ifdef __cplusplus
}
#endif

#endif
