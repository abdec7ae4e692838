/* ioctl(), replacing wasi-libc's ioctl.o (which defines only `ioctl` and
 * uses WASI request numbers). Requests are Linux's (<sys/ioctl.h>).
 * FIOCLEX/FIONCLEX are fcntl(F_SETFD) in disguise and are done here; every
 * other request goes to host_proc.ioctl with the third argument as a guest
 * pointer (FIONREAD writes an int, FIONBIO reads one; anything the kernel
 * does not know fails with ENOTTY). */
#include <errno.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include "host_proc.h"
#include "internal.h"

int ioctl(int fd, unsigned long request, ...) {
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int32_t r, out;
    switch (request) {
    case FIOCLEX:
        r = __host_proc_fcntl(fd, LX_F_SETFD, LX_FD_CLOEXEC, HP(&out));
        break;
    case FIONCLEX:
        r = __host_proc_fcntl(fd, LX_F_SETFD, 0, HP(&out));
        break;
    default:
        r = __host_proc_ioctl(fd, (uint32_t)request, HP(arg));
    }
    return errno_ret(r);
}
