/* sidecar SDK: <stdio.h> = wasi-libc's plus popen() and pclose(), which it
 * hides (implemented by the shim, src/fork.c, over posix_spawn). */
#ifndef __SIDECAR_STDIO_H
#define __SIDECAR_STDIO_H

#include_next <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

FILE *popen(const char *, const char *);
int pclose(FILE *);

#ifdef __cplusplus
}
#endif

#endif
