/* sidecar SDK: <fcntl.h> = wasi-libc's plus F_DUPFD, F_DUPFD_CLOEXEC and a
 * working O_CLOEXEC (wasi-libc defines it as 0). fcntl() itself is replaced
 * by libsidecar.a and served by host_proc.fcntl. */
#ifndef __SIDECAR_FCNTL_H
#define __SIDECAR_FCNTL_H

#include_next <fcntl.h>

#ifndef F_DUPFD
#define F_DUPFD 0
#endif
#ifndef F_DUPFD_CLOEXEC
#define F_DUPFD_CLOEXEC 1030
#endif

/* POSIX record locks: wasi-libc defines struct flock but hides the
 * commands. Linux's values (struct flock has a 64-bit off_t, as with
 * Linux's F_*LK on 64-bit targets). Declared only: the shim's fcntl()
 * passes them to host_proc.fcntl, which does not serve them (EINVAL), so
 * callers take their no-locking path (fontconfig's cache lock does). */
#ifndef F_GETLK
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#endif
#ifndef F_RDLCK
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#endif

/* A bit that wasi-libc's open() ignores (it only looks at the low 24 bits
 * and O_ACCMODE); the shim's open()/openat() strip it and set FD_CLOEXEC,
 * pipe2()/dup3()/posix_spawn_file_actions_addopen() translate it. */
#undef O_CLOEXEC
#define O_CLOEXEC 0x40000000

/* wasi-libc defines O_NOCTTY as 0. This is a bit its open() passes through
 * to path_open's fdflags unused by WASI; the sidecar reads it there. */
#undef O_NOCTTY
#define O_NOCTTY 0x200

#ifndef __SIDECAR_SHIM_BUILD
#ifdef __cplusplus
extern "C" {
#endif
/* Routed through the shim with asm labels so the C names stay untouched
 * (struct members called `open` are unaffected). */
int open(const char *, int, ...) __asm__("__sidecar_open");
int openat(int, const char *, int, ...) __asm__("__sidecar_openat");
#ifdef __cplusplus
}
#endif
#endif

#endif
