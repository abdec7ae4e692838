/* sidecar SDK: the Linux `struct sockaddr_in` (16 bytes with sin_zero).
 * wasi-libc's is aligned with _Alignas(max_align_t), which does not compile
 * before C11 (-std=gnu99 builds) and differs from the Linux layout. Shadows
 * the wasi-libc header of the same name (same include guard). Only the type
 * is provided: the sidecar has no AF_INET sockets. */
#ifndef __wasilibc___struct_sockaddr_in_h
#define __wasilibc___struct_sockaddr_in_h

#include <__typedef_sa_family_t.h>
#include <__typedef_in_port_t.h>
#include <__struct_in_addr.h>

struct sockaddr_in {
    sa_family_t sin_family;
    in_port_t sin_port;
    struct in_addr sin_addr;
    unsigned char sin_zero[8];
};

#endif
