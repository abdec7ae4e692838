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

#ifdef __cplusplus
}
#endif

#endif
