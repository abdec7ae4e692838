/* sidecar SDK: <stropts.h> without wasi-libc's `int ioctl(int, int, ...)`,
 * which would conflict with the glibc-style prototype of <sys/ioctl.h>. */
#ifndef __SIDECAR_STROPTS_H
#define __SIDECAR_STROPTS_H

#define ioctl __sidecar_stropts_ioctl_unused
#include_next <stropts.h>
#undef ioctl

#ifdef __cplusplus
extern "C" {
#endif
int ioctl(int, unsigned long, ...);
#ifdef __cplusplus
}
#endif

#endif
