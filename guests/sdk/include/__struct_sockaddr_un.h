/* sidecar SDK: the Linux `struct sockaddr_un` (110 bytes: family, then a
 * 108-byte sun_path), laid out as the host_net ABI expects. wasi-libc's has
 * no sun_path and is 16-byte aligned, which would make sizeof 112: more than
 * Linux accepts as an address length. Shadows the wasi-libc header of the
 * same name (same include guard), so <sys/un.h> picks it up. */
#ifndef __wasilibc___struct_sockaddr_un_h
#define __wasilibc___struct_sockaddr_un_h

#include <__typedef_sa_family_t.h>

struct sockaddr_un {
    sa_family_t sun_family;
    char sun_path[108];
};

#endif
