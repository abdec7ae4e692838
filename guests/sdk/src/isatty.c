/* isatty(), replacing wasi-libc's isatty.o (which defines only __isatty and
 * its weak alias isatty, and decides from fd_fdstat_get's file type and
 * rights). A terminal is what answers TCGETS, as with musl and glibc; errno
 * is ENOTTY otherwise (EBADF for a bad fd). Kept apart from tty.c because
 * wasi-libc's stdout and fdopen() call __isatty: every program that prints
 * links this object, and it should pull in nothing else. */
#include <errno.h>
#include <stdint.h>

#include "host_proc.h"

#define LX_TCGETS 0x5401u

int __isatty(int fd) {
    /* struct termios is 60 bytes (SPEC.md); <termios.h> is not needed. */
    uint32_t buf[15];
    int32_t r = __host_proc_ioctl(fd, LX_TCGETS, HP(buf));
    if (r == 0) return 1;
    errno = r == EBADF ? EBADF : ENOTTY;
    return 0;
}

extern __typeof(__isatty) isatty __attribute__((weak, alias("__isatty")));
