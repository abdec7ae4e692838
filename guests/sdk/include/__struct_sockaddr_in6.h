/* sidecar SDK: the Linux `struct sockaddr_in6` (28 bytes). wasi-libc's is
 * aligned with _Alignas(max_align_t), which does not compile before C11
 * (-std=gnu99 builds). Shadows the wasi-libc header of the same name (same
 * include guard). Only the type is provided: the sidecar has no AF_INET6
 * sockets. */
#ifndef __wasilibc___struct_sockaddr_in6_h
#define __wasilibc___struct_sockaddr_in6_h

#include <__typedef_sa_family_t.h>
#include <__typedef_in_port_t.h>
#include <__struct_in6_addr.h>

struct sockaddr_in6 {
    sa_family_t sin6_family;
    in_port_t sin6_port;
    unsigned sin6_flowinfo;
    struct in6_addr sin6_addr;
    unsigned sin6_scope_id;
};

#endif
