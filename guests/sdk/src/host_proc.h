/* Private to the shim: the `host_proc` import module (see SPEC.md) and the
 * flag translation between wasi-libc's O_* values and the Linux values the ABI
 * uses. Every import returns a WASI errno (0 = success), which equals
 * wasi-libc's errno numbering, so callers store it into errno unchanged. */
#ifndef SIDECAR_HOST_PROC_H
#define SIDECAR_HOST_PROC_H

#include <stdint.h>

#define HOST_PROC(name) \
    __attribute__((import_module("host_proc"), import_name(#name)))

HOST_PROC(spawn)
int32_t __host_proc_spawn(uint32_t path, uint32_t path_len, uint32_t argv,
                          uint32_t argv_len, uint32_t envp, uint32_t envp_len,
                          uint32_t actions, uint32_t n_actions, uint32_t attr,
                          uint32_t pid_out);
HOST_PROC(wait)
int32_t __host_proc_wait(int32_t pid, uint32_t options, uint32_t status_out,
                         uint32_t pid_out);
HOST_PROC(kill) int32_t __host_proc_kill(int32_t pid, int32_t sig);
HOST_PROC(getpid) int32_t __host_proc_getpid(void);
HOST_PROC(getppid) int32_t __host_proc_getppid(void);
HOST_PROC(getpgid) int32_t __host_proc_getpgid(int32_t pid, uint32_t out);
HOST_PROC(setpgid) int32_t __host_proc_setpgid(int32_t pid, int32_t pgid);
HOST_PROC(getsid) int32_t __host_proc_getsid(int32_t pid, uint32_t out);
HOST_PROC(setsid) int32_t __host_proc_setsid(uint32_t out);
HOST_PROC(initial_cwd)
int32_t __host_proc_initial_cwd(uint32_t buf, uint32_t buf_len, uint32_t len_out);
HOST_PROC(pipe2) int32_t __host_proc_pipe2(uint32_t fds_out, uint32_t flags);
HOST_PROC(dup) int32_t __host_proc_dup(int32_t fd, uint32_t fd_out);
HOST_PROC(dup3) int32_t __host_proc_dup3(int32_t oldfd, int32_t newfd, uint32_t flags);
HOST_PROC(fcntl)
int32_t __host_proc_fcntl(int32_t fd, int32_t cmd, int32_t arg, uint32_t out);
HOST_PROC(ioctl)
int32_t __host_proc_ioctl(int32_t fd, uint32_t request, uint32_t arg);

/* Guest pointer -> ABI u32. */
#define HP(p) ((uint32_t)(uintptr_t)(p))

/* ABI records (little-endian, 32 bytes each). */
struct sidecar_spawn_action {
    uint32_t op; /* 1 close, 2 dup2, 3 open, 4 chdir */
    int32_t fd;
    int32_t newfd;
    uint32_t oflag; /* Linux O_* bits */
    uint32_t mode;
    uint32_t path;
    uint32_t path_len;
    uint32_t reserved;
};
_Static_assert(sizeof(struct sidecar_spawn_action) == 32, "action ABI");

struct sidecar_spawn_attr {
    uint32_t flags; /* 1 SETPGROUP, 2 SETSID, 4 SETSIGDEF, 8 SETSIGMASK */
    int32_t pgroup;
    uint32_t cwd;
    uint32_t cwd_len;
    uint64_t sigdefault; /* bit n-1 = signal n */
    uint64_t sigmask;
};
_Static_assert(sizeof(struct sidecar_spawn_attr) == 32, "attr ABI");

#define SC_SPAWN_ACT_CLOSE 1u
#define SC_SPAWN_ACT_DUP2 2u
#define SC_SPAWN_ACT_OPEN 3u
#define SC_SPAWN_ACT_CHDIR 4u

#define SC_ATTR_SETPGROUP 1u
#define SC_ATTR_SETSID 2u
#define SC_ATTR_SETSIGDEF 4u
#define SC_ATTR_SETSIGMASK 8u

/* Linux open/fcntl flag values used on the ABI. */
#define LX_O_WRONLY 01u
#define LX_O_RDWR 02u
#define LX_O_ACCMODE 03u
#define LX_O_CREAT 0100u
#define LX_O_EXCL 0200u
#define LX_O_TRUNC 01000u
#define LX_O_APPEND 02000u
#define LX_O_NONBLOCK 04000u
#define LX_O_DSYNC 010000u
#define LX_O_DIRECTORY 0200000u
#define LX_O_NOFOLLOW 0400000u
#define LX_O_CLOEXEC 02000000u
#define LX_O_SYNC 04010000u /* includes O_DSYNC, as on Linux */

#define LX_F_DUPFD 0
#define LX_F_GETFD 1
#define LX_F_SETFD 2
#define LX_F_GETFL 3
#define LX_F_SETFL 4
#define LX_F_DUPFD_CLOEXEC 1030
#define LX_FD_CLOEXEC 1

/* fd.c */
uint32_t __sidecar_oflags_to_linux(int flags, int *bad);
int __sidecar_oflags_from_linux(uint32_t lx);

#endif
