/* sidecar SDK: <stdlib.h> = wasi-libc's plus what it hides: POSIX
 * realpath() (implemented by the shim, src/realpath.c;
 * fontconfig canonicalizes font paths with it), the
 * pseudo-terminal calls (implemented by the shim, src/tty.c) and the
 * temporary-file calls (src/tmpfile.c). */
#ifndef __SIDECAR_STDLIB_H
#define __SIDECAR_STDLIB_H

#include_next <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

char *realpath(const char *__restrict, char *__restrict);

/* Pseudo-terminals (wasi-libc hides them), implemented by the shim over
 * /dev/ptmx and host_proc.ioctl; gated as musl gates them. */
#if defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE) || defined(_BSD_SOURCE)
int posix_openpt(int);
int grantpt(int);
int unlockpt(int);
char *ptsname(int);
#endif
#ifdef _GNU_SOURCE
int ptsname_r(int, char *, size_t);
#endif

/* Temporary files: XXXXXX becomes six random characters; O_EXCL makes the
 * name the caller's alone (src/tmpfile.c). */
int mkstemp(char *);
int mkostemp(char *, int);
char *mkdtemp(char *);
#if defined(_GNU_SOURCE) || defined(_BSD_SOURCE)
char *mktemp(char *);
int mkstemps(char *, int);
int mkostemps(char *, int, int);
#endif

#ifdef __cplusplus
}
#endif

#endif
