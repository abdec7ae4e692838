/* sidecar SDK: the Linux `struct sockaddr` (16 bytes, 2-byte aligned, with
 * sa_data[14]) instead of wasi-libc's 16-byte-aligned placeholder. Shadows
 * the wasi-libc header of the same name (same include guard). */
#ifndef __wasilibc___struct_sockaddr_h
#define __wasilibc___struct_sockaddr_h

#include <__typedef_sa_family_t.h>

struct sockaddr {
    sa_family_t sa_family;
    char sa_data[14];
};

#endif
