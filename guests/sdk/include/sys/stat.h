/* sidecar SDK: <sys/stat.h> = wasi-libc's plus the POSIX mode calls that it
 * hides (WASI preview 1 has no file modes). The shim (src/mode.c) checks
 * that the file exists and changes nothing; umask is remembered only.
 * (libX11/xtrans and the X server chmod their socket directory; fontconfig
 * chmods its cache.) */
#ifndef __SIDECAR_SYS_STAT_H
#define __SIDECAR_SYS_STAT_H

#include_next <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

int chmod(const char *, mode_t);
int fchmod(int, mode_t);
int fchmodat(int, const char *, mode_t, int);
mode_t umask(mode_t);

#ifndef __SIDECAR_SHIM_BUILD
/* utimensat() is routed through the shim (src/futimens.c): wasi-libc
 * 2022-05 rejects a UTIME_NOW or UTIME_OMIT entry whose tv_sec is not a
 * valid time, which POSIX says to ignore, and sets time 0 for NULL. */
int utimensat(int, const char *, const struct timespec[2], int) __asm__("__sidecar_utimensat");
#endif

#ifdef __cplusplus
}
#endif

#endif
