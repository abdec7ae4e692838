/* sidecar SDK: wasi-libc's sigset_t is a one-byte placeholder, too small for
 * Linux signal numbers. Use musl's layout (bit n-1 = signal n). Shadows the
 * wasi-libc header of the same name (same include guard). */
#ifndef __wasilibc___typedef_sigset_t_h
#define __wasilibc___typedef_sigset_t_h

typedef struct __sigset_t {
    unsigned long __bits[128 / sizeof(long)];
} sigset_t;

#endif
