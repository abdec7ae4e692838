/* sidecar SDK: <stdio.h> = wasi-libc's plus popen() and pclose(), which it
 * hides (implemented by the shim, src/fork.c, over posix_spawn), and glibc's
 * P_tmpdir. */
#ifndef __SIDECAR_STDIO_H
#define __SIDECAR_STDIO_H

#include_next <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if (defined(_GNU_SOURCE) || defined(_XOPEN_SOURCE) || defined(_BSD_SOURCE)) && !defined(P_tmpdir)
#define P_tmpdir "/tmp"
#endif

FILE *popen(const char *, const char *);
int pclose(FILE *);

#ifdef __cplusplus
}
#endif

#endif
