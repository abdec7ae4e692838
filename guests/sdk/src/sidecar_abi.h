/* sidecar_abi.h: the sidecar guest ABI, for the shim (libsidecar.a).
 *
 * GENERATED from crates/abi by
 *     cargo run -p sidecar-abi --bin gen-header -- --write
 * Do not edit: change crates/abi/src and regenerate. `cargo test -p
 * sidecar-abi` fails while this file is stale, or when SPEC.md's ABI tables
 * or the SDK's public headers disagree with the crate.
 *
 * Every host_* import returns a WASI errno (0 = success), the numbering
 * wasi-libc's errno uses, so callers store it into errno unchanged; results
 * are written through out-pointers. Pointers are uint32_t offsets into the
 * guest's memory (HP). Flags and numbers are Linux's (LX_*), not
 * wasi-libc's. */
#ifndef SIDECAR_ABI_H
#define SIDECAR_ABI_H

#include <stdint.h>

#define HOST_PROC(name) \
    __attribute__((import_module("host_proc"), import_name(#name)))
#define HOST_NET(name) \
    __attribute__((import_module("host_net"), import_name(#name)))

/* Guest pointer -> ABI u32. */
#define HP(p) ((uint32_t)(uintptr_t)(p))

/* ---- host_proc ---- */

/* posix_spawn: run the module at `path` as a child (file actions, attributes). */
HOST_PROC(spawn)
int32_t __host_proc_spawn(uint32_t path, uint32_t path_len, uint32_t argv, uint32_t argv_len,
                          uint32_t envp, uint32_t envp_len, uint32_t actions, uint32_t n_actions,
                          uint32_t attr, uint32_t pid_out);

/* execve: replace the caller's image with the module (or `#!` script) at
 * `path`; returns only on failure. */
HOST_PROC(execve)
int32_t __host_proc_execve(uint32_t path, uint32_t path_len, uint32_t argv, uint32_t argv_len,
                           uint32_t envp, uint32_t envp_len, uint32_t cwd, uint32_t cwd_len);

/* fork: returns twice, *pid_out = the child's pid in the parent and 0 in the
 * child. Needs a module Asyncify-instrumented for this import (sidecar-cc does
 * it): `data` is Asyncify's record {start, end} over a buffer for the unwound
 * stack. ENOSYS otherwise. */
HOST_PROC(fork)
int32_t __host_proc_fork(uint32_t data, uint32_t pid_out);

/* fork for a program that unwinds its own stack (the sjlj driver below main):
 * the child is a copy of the caller as it is now and starts by calling the `()
 * -> ()` function `entry` of the table; the caller gets *pid_out at once. */
HOST_PROC(fork_here)
int32_t __host_proc_fork_here(uint32_t entry, uint32_t pid_out);

/* waitpid: status in Linux encoding; *pid_out = 0 with WNOHANG and nothing to
 * report. */
HOST_PROC(wait)
int32_t __host_proc_wait(int32_t pid, uint32_t options, uint32_t status_out, uint32_t pid_out);

/* kill(2); sig 0 probes. */
HOST_PROC(kill)
int32_t __host_proc_kill(int32_t pid, int32_t sig);

/* The caller's pid. */
HOST_PROC(getpid)
int32_t __host_proc_getpid(void);

/* The parent's pid (0 for guests the VM started). */
HOST_PROC(getppid)
int32_t __host_proc_getppid(void);

/* getpgid(2); pid 0 means self. */
HOST_PROC(getpgid)
int32_t __host_proc_getpgid(int32_t pid, uint32_t pgid_out);

/* setpgid(2). */
HOST_PROC(setpgid)
int32_t __host_proc_setpgid(int32_t pid, int32_t pgid);

/* getsid(2); pid 0 means self. */
HOST_PROC(getsid)
int32_t __host_proc_getsid(int32_t pid, uint32_t sid_out);

/* setsid(2): new session and group. */
HOST_PROC(setsid)
int32_t __host_proc_setsid(uint32_t sid_out);

/* The directory the process was started in (no NUL); ERANGE if buf_len is
 * short. */
HOST_PROC(initial_cwd)
int32_t __host_proc_initial_cwd(uint32_t buf, uint32_t buf_len, uint32_t len_out);

/* pipe2(2): two i32 fds (struct sidecar_fd_pair) to fds_out; Linux O_* flags. */
HOST_PROC(pipe2)
int32_t __host_proc_pipe2(uint32_t fds_out, uint32_t flags);

/* dup(2). */
HOST_PROC(dup)
int32_t __host_proc_dup(int32_t fd, uint32_t fd_out);

/* dup3(2); flags 0 or O_CLOEXEC. */
HOST_PROC(dup3)
int32_t __host_proc_dup3(int32_t oldfd, int32_t newfd, uint32_t flags);

/* fcntl(2) with Linux F_* commands and O_* bits. */
HOST_PROC(fcntl)
int32_t __host_proc_fcntl(int32_t fd, int32_t cmd, int32_t arg, uint32_t out);

/* ioctl(2) with Linux request numbers; arg is a guest pointer or a value. */
HOST_PROC(ioctl)
int32_t __host_proc_ioctl(int32_t fd, uint32_t request, uint32_t arg);

/* sigaction: disposition SC_DISP_*, Linux SA_* flags, mask bit n-1 = signal n. */
HOST_PROC(sigaction)
int32_t __host_proc_sigaction(int32_t sig, uint32_t disposition, uint32_t flags, uint64_t mask);

/* sigprocmask: SIG_BLOCK/SIG_UNBLOCK/SIG_SETMASK; old_out (u64) may be 0. */
HOST_PROC(sigprocmask)
int32_t __host_proc_sigprocmask(int32_t how, uint64_t set, uint32_t old_out);

/* The pending set (u64). */
HOST_PROC(sigpending)
int32_t __host_proc_sigpending(uint32_t set_out);

/* The set (u64) of signals whose disposition is SIG_IGN (inherited across spawn
 * and exec). */
HOST_PROC(sigignored)
int32_t __host_proc_sigignored(uint32_t set_out);

/* Wait with mask in place until a caught signal ran; EINTR. */
HOST_PROC(sigsuspend)
int32_t __host_proc_sigsuspend(uint64_t mask);

/* sigsuspend with the current mask; EINTR. */
HOST_PROC(pause)
int32_t __host_proc_pause(void);

/* setitimer(2) in microseconds; old_out (struct sidecar_itimerval) may be 0. */
HOST_PROC(setitimer)
int32_t __host_proc_setitimer(int32_t which, int64_t interval_us, int64_t value_us,
                              uint32_t old_out);

/* getitimer(2) into struct sidecar_itimerval. */
HOST_PROC(getitimer)
int32_t __host_proc_getitimer(int32_t which, uint32_t out);

/* Function-table index of `void trampoline(int sig)`. */
HOST_PROC(set_signal_trampoline)
int32_t __host_proc_set_signal_trampoline(uint32_t index);

/* The permission bits (st_mode & 07777, u32) of `path` under the directory `fd`
 * (lookup flags as path_filestat_get's: bit 0 follows a final symlink), or of
 * `fd` itself when path_len is 0. WASI's filestat has no mode. */
HOST_PROC(stat_mode)
int32_t __host_proc_stat_mode(int32_t fd, uint32_t path, uint32_t path_len, uint32_t flags,
                              uint32_t mode_out);

/* ---- host_net ---- */

/* socket(2): AF_UNIX only. */
HOST_NET(socket)
int32_t __host_net_socket(int32_t domain, int32_t type, int32_t protocol, uint32_t fd_out);

/* socketpair(2): two i32 fds (struct sidecar_fd_pair) to fds_out. */
HOST_NET(socketpair)
int32_t __host_net_socketpair(int32_t domain, int32_t type, int32_t protocol, uint32_t fds_out);

/* bind(2) to a struct sockaddr_un. */
HOST_NET(bind)
int32_t __host_net_bind(int32_t fd, uint32_t addr, uint32_t addr_len);

/* listen(2). */
HOST_NET(listen)
int32_t __host_net_listen(int32_t fd, int32_t backlog);

/* accept4(2); addr may be 0. */
HOST_NET(accept4)
int32_t __host_net_accept4(int32_t fd, uint32_t flags, uint32_t addr, uint32_t addr_cap,
                           uint32_t addr_len_out, uint32_t fd_out);

/* connect(2). */
HOST_NET(connect)
int32_t __host_net_connect(int32_t fd, uint32_t addr, uint32_t addr_len);

/* sendmsg: iovs are struct sidecar_iovec; fds travel as SCM_RIGHTS. */
HOST_NET(sendmsg)
int32_t __host_net_sendmsg(int32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t fds,
                           uint32_t nfds, uint32_t flags, uint32_t addr, uint32_t addr_len,
                           uint32_t sent_out);

/* recvmsg: result is a struct sidecar_recv_result. */
HOST_NET(recvmsg)
int32_t __host_net_recvmsg(int32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t fds,
                           uint32_t fds_cap, uint32_t flags, uint32_t addr, uint32_t addr_cap,
                           uint32_t result);

/* shutdown(2). */
HOST_NET(shutdown)
int32_t __host_net_shutdown(int32_t fd, int32_t how);

/* getsockname(2); the full length goes to len_out. */
HOST_NET(getsockname)
int32_t __host_net_getsockname(int32_t fd, uint32_t addr, uint32_t addr_cap, uint32_t len_out);

/* getpeername(2); the full length goes to len_out. */
HOST_NET(getpeername)
int32_t __host_net_getpeername(int32_t fd, uint32_t addr, uint32_t addr_cap, uint32_t len_out);

/* getsockopt(2) for SOL_SOCKET options. */
HOST_NET(getsockopt)
int32_t __host_net_getsockopt(int32_t fd, int32_t level, int32_t name, uint32_t val,
                              uint32_t val_cap, uint32_t len_out);

/* setsockopt(2) for SOL_SOCKET options. */
HOST_NET(setsockopt)
int32_t __host_net_setsockopt(int32_t fd, int32_t level, int32_t name, uint32_t val,
                              uint32_t val_len);

/* poll(2) over struct sidecar_pollfd records; timeout_ms < 0 waits forever. */
HOST_NET(poll)
int32_t __host_net_poll(uint32_t fds, uint32_t nfds, int32_t timeout_ms, uint32_t n_out);

/* ---- records ---- */

/* A `posix_spawn` file action (`host_proc.spawn`: `n_actions` of them at
 * `actions`). */
struct sidecar_spawn_action { /* 32 bytes, little-endian */
    uint32_t op;       /* SC_SPAWN_ACT_*: 1 close(fd); 2 dup2(fd, newfd); 3 open(path) onto newfd; 4 chdir(path) */
    int32_t fd;
    int32_t newfd;
    uint32_t oflag;    /* Linux O_* bits, for op 3 */
    uint32_t mode;     /* for op 3 */
    uint32_t path;     /* guest pointer, ops 3 and 4 */
    uint32_t path_len;
    uint32_t reserved; /* 0 */
};
_Static_assert(sizeof(struct sidecar_spawn_action) == 32, "sidecar_spawn_action: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_action, op) == 0, "sidecar_spawn_action.op: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_action, fd) == 4, "sidecar_spawn_action.fd: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_action, newfd) == 8, "sidecar_spawn_action.newfd: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_action, oflag) == 12, "sidecar_spawn_action.oflag: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_action, mode) == 16, "sidecar_spawn_action.mode: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_action, path) == 20, "sidecar_spawn_action.path: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_action, path_len) == 24, "sidecar_spawn_action.path_len: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_action, reserved) == 28, "sidecar_spawn_action.reserved: ABI offset");

/* `posix_spawn` attributes (`host_proc.spawn` `attr`, or 0). */
struct sidecar_spawn_attr { /* 32 bytes, little-endian */
    uint32_t flags;      /* SC_ATTR_*: 1 SETPGROUP, 2 SETSID, 4 SETSIGDEF, 8 SETSIGMASK */
    int32_t pgroup;      /* for SETPGROUP: 0 = the child's own pid */
    uint32_t cwd;        /* guest pointer to the child's working directory (absolute), or 0 */
    uint32_t cwd_len;
    uint64_t sigdefault; /* bit n-1 = signal n */
    uint64_t sigmask;
};
_Static_assert(sizeof(struct sidecar_spawn_attr) == 32, "sidecar_spawn_attr: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_attr, flags) == 0, "sidecar_spawn_attr.flags: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_attr, pgroup) == 4, "sidecar_spawn_attr.pgroup: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_attr, cwd) == 8, "sidecar_spawn_attr.cwd: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_attr, cwd_len) == 12, "sidecar_spawn_attr.cwd_len: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_attr, sigdefault) == 16, "sidecar_spawn_attr.sigdefault: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_spawn_attr, sigmask) == 24, "sidecar_spawn_attr.sigmask: ABI offset");

/* What `host_proc.setitimer`/`getitimer` report: the old or current setting. */
struct sidecar_itimerval { /* 16 bytes, little-endian */
    uint64_t interval_us; /* microseconds between expiries (0: one shot) */
    uint64_t value_us;    /* microseconds until the next expiry (0: disarmed) */
};
_Static_assert(sizeof(struct sidecar_itimerval) == 16, "sidecar_itimerval: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_itimerval, interval_us) == 0, "sidecar_itimerval.interval_us: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_itimerval, value_us) == 8, "sidecar_itimerval.value_us: ABI offset");

/* The two fds `host_proc.pipe2` (read end, write end) and `host_net.socketpair`
 * return. */
struct sidecar_fd_pair { /* 8 bytes, little-endian */
    int32_t fds[2];
};
_Static_assert(sizeof(struct sidecar_fd_pair) == 8, "sidecar_fd_pair: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_fd_pair, fds) == 0, "sidecar_fd_pair.fds: ABI offset");

/* `host_net.recvmsg`'s `result`. */
struct sidecar_recv_result { /* 16 bytes, little-endian */
    uint32_t bytes;     /* bytes received (0: EOF) */
    uint32_t nfds;      /* fds installed in the caller */
    uint32_t addr_len;  /* the sender's full address length */
    uint32_t msg_flags; /* MSG_TRUNC, MSG_CTRUNC */
};
_Static_assert(sizeof(struct sidecar_recv_result) == 16, "sidecar_recv_result: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_recv_result, bytes) == 0, "sidecar_recv_result.bytes: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_recv_result, nfds) == 4, "sidecar_recv_result.nfds: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_recv_result, addr_len) == 8, "sidecar_recv_result.addr_len: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_recv_result, msg_flags) == 12, "sidecar_recv_result.msg_flags: ABI offset");

/* A WASI `ciovec`/`iovec` (`sendmsg`/`recvmsg` `iovs`, WASI reads and writes). */
struct sidecar_iovec { /* 8 bytes, little-endian */
    uint32_t iov_base; /* guest pointer */
    uint32_t iov_len;
};
_Static_assert(sizeof(struct sidecar_iovec) == 8, "sidecar_iovec: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_iovec, iov_base) == 0, "sidecar_iovec.iov_base: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_iovec, iov_len) == 4, "sidecar_iovec.iov_len: ABI offset");

/* Linux `struct pollfd` (`host_net.poll`). */
struct sidecar_pollfd { /* 8 bytes, little-endian */
    int32_t fd;
    int16_t events;  /* LX_POLL* bits */
    int16_t revents; /* LX_POLL* bits */
};
_Static_assert(sizeof(struct sidecar_pollfd) == 8, "sidecar_pollfd: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_pollfd, fd) == 0, "sidecar_pollfd.fd: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_pollfd, events) == 4, "sidecar_pollfd.events: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_pollfd, revents) == 6, "sidecar_pollfd.revents: ABI offset");

/* Linux `struct sockaddr_un`: `sun_family` = AF_UNIX, then the path (NUL first:
 * an abstract name of `len - 2` bytes). */
struct sidecar_sockaddr_un { /* 110 bytes, little-endian */
    uint16_t sun_family;
    uint8_t sun_path[108];
};
_Static_assert(sizeof(struct sidecar_sockaddr_un) == 110, "sidecar_sockaddr_un: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_sockaddr_un, sun_family) == 0, "sidecar_sockaddr_un.sun_family: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_sockaddr_un, sun_path) == 2, "sidecar_sockaddr_un.sun_path: ABI offset");

/* Linux `struct ucred` (`SO_PEERCRED`). */
struct sidecar_ucred { /* 12 bytes, little-endian */
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};
_Static_assert(sizeof(struct sidecar_ucred) == 12, "sidecar_ucred: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_ucred, pid) == 0, "sidecar_ucred.pid: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_ucred, uid) == 4, "sidecar_ucred.uid: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_ucred, gid) == 8, "sidecar_ucred.gid: ABI offset");

/* The 60-byte glibc/musl `struct termios` (`TCGETS`, `TCSETS*`). */
struct sidecar_termios { /* 60 bytes, little-endian */
    uint32_t c_iflag;
    uint32_t c_oflag;
    uint32_t c_cflag;
    uint32_t c_lflag;
    uint8_t c_line;
    uint8_t c_cc[32];
    uint32_t c_ispeed; /* numeric rate (38400) */
    uint32_t c_ospeed;
};
_Static_assert(sizeof(struct sidecar_termios) == 60, "sidecar_termios: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_termios, c_iflag) == 0, "sidecar_termios.c_iflag: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_termios, c_oflag) == 4, "sidecar_termios.c_oflag: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_termios, c_cflag) == 8, "sidecar_termios.c_cflag: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_termios, c_lflag) == 12, "sidecar_termios.c_lflag: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_termios, c_line) == 16, "sidecar_termios.c_line: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_termios, c_cc) == 17, "sidecar_termios.c_cc: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_termios, c_ispeed) == 52, "sidecar_termios.c_ispeed: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_termios, c_ospeed) == 56, "sidecar_termios.c_ospeed: ABI offset");

/* Linux `struct winsize` (`TIOCGWINSZ`, `TIOCSWINSZ`). */
struct sidecar_winsize { /* 8 bytes, little-endian */
    uint16_t ws_row;
    uint16_t ws_col;
    uint16_t ws_xpixel;
    uint16_t ws_ypixel;
};
_Static_assert(sizeof(struct sidecar_winsize) == 8, "sidecar_winsize: ABI size");
_Static_assert(__builtin_offsetof(struct sidecar_winsize, ws_row) == 0, "sidecar_winsize.ws_row: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_winsize, ws_col) == 2, "sidecar_winsize.ws_col: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_winsize, ws_xpixel) == 4, "sidecar_winsize.ws_xpixel: ABI offset");
_Static_assert(__builtin_offsetof(struct sidecar_winsize, ws_ypixel) == 6, "sidecar_winsize.ws_ypixel: ABI offset");

/* ---- constants ---- */

/* Linux `open(2)`/`fcntl(2)` status flags, as `pipe2`, `dup3`, `fcntl` and
 * spawn `open` actions carry them (wasi-libc's `O_*` differ; the shim
 * translates). */
#define LX_O_WRONLY 01u
#define LX_O_RDWR 02u
#define LX_O_ACCMODE 03u
#define LX_O_CREAT 0100u
#define LX_O_EXCL 0200u
#define LX_O_NOCTTY 0400u
#define LX_O_TRUNC 01000u
#define LX_O_APPEND 02000u
#define LX_O_NONBLOCK 04000u
#define LX_O_DSYNC 010000u
#define LX_O_DIRECTORY 0200000u
#define LX_O_NOFOLLOW 0400000u
#define LX_O_CLOEXEC 02000000u
#define LX_O_SYNC 04010000u /* Includes O_DSYNC, as on Linux. */

/* `fcntl(2)` commands and fd flags. */
#define LX_F_DUPFD 0
#define LX_F_GETFD 1
#define LX_F_SETFD 2
#define LX_F_GETFL 3
#define LX_F_SETFL 4
#define LX_F_DUPFD_CLOEXEC 1030
#define LX_FD_CLOEXEC 1

/* `waitpid` options. */
#define LX_WNOHANG 1u
#define LX_WUNTRACED 2u
#define LX_WCONTINUED 8u

/* Linux signal numbers. */
#define LX_SIGHUP 1
#define LX_SIGINT 2
#define LX_SIGQUIT 3
#define LX_SIGILL 4
#define LX_SIGTRAP 5
#define LX_SIGABRT 6
#define LX_SIGBUS 7
#define LX_SIGFPE 8
#define LX_SIGKILL 9
#define LX_SIGUSR1 10
#define LX_SIGSEGV 11
#define LX_SIGUSR2 12
#define LX_SIGPIPE 13
#define LX_SIGALRM 14
#define LX_SIGTERM 15
#define LX_SIGSTKFLT 16
#define LX_SIGCHLD 17
#define LX_SIGCONT 18
#define LX_SIGSTOP 19
#define LX_SIGTSTP 20
#define LX_SIGTTIN 21
#define LX_SIGTTOU 22
#define LX_SIGURG 23
#define LX_SIGXCPU 24
#define LX_SIGXFSZ 25
#define LX_SIGVTALRM 26
#define LX_SIGPROF 27
#define LX_SIGWINCH 28
#define LX_SIGIO 29
#define LX_SIGPWR 30
#define LX_SIGSYS 31

/* `sigaction` flags the kernel acts on. */
#define LX_SA_NOCLDSTOP 0x1u
#define LX_SA_SIGINFO 0x4u
#define LX_SA_RESTART 0x10000000u
#define LX_SA_NODEFER 0x40000000u
#define LX_SA_RESETHAND 0x80000000u

/* `sigprocmask` `how`. */
#define LX_SIG_BLOCK 0
#define LX_SIG_UNBLOCK 1
#define LX_SIG_SETMASK 2

/* `host_proc.sigaction` dispositions (the handler pointer stays in the guest). */
#define SC_DISP_DEFAULT 0u
#define SC_DISP_IGNORE 1u
#define SC_DISP_CATCH 2u

/* Interval timers (`setitimer`); only `ITIMER_REAL` is provided. */
#define LX_ITIMER_REAL 0
#define LX_ITIMER_VIRTUAL 1
#define LX_ITIMER_PROF 2

/* `struct sidecar_spawn_action` `op`. */
#define SC_SPAWN_ACT_CLOSE 1u /* close(fd) */
#define SC_SPAWN_ACT_DUP2 2u /* dup2(fd, newfd) */
#define SC_SPAWN_ACT_OPEN 3u /* open(path, oflag, mode) onto newfd */
#define SC_SPAWN_ACT_CHDIR 4u /* chdir(path) */

/* `struct sidecar_spawn_attr` `flags`. */
#define SC_ATTR_SETPGROUP 1u /* Set the child's process group to `pgroup` (0: its own pid). */
#define SC_ATTR_SETSID 2u /* Start a new session. */
#define SC_ATTR_SETSIGDEF 4u /* Reset the signals in `sigdefault` to their default action. */
#define SC_ATTR_SETSIGMASK 8u /* Start with `sigmask` as the signal mask. */

/* Socket domains and types. */
#define LX_AF_UNIX 1
#define LX_SOCK_STREAM 1
#define LX_SOCK_DGRAM 2

/* Flags or-ed into a socket type (and `accept4` flags). */
#define LX_SOCK_NONBLOCK 04000
#define LX_SOCK_CLOEXEC 02000000

/* `sendmsg`/`recvmsg` flags. */
#define LX_MSG_PEEK 0x2u
#define LX_MSG_CTRUNC 0x8u
#define LX_MSG_TRUNC 0x20u
#define LX_MSG_DONTWAIT 0x40u
#define LX_MSG_EOR 0x80u
#define LX_MSG_WAITALL 0x100u
#define LX_MSG_NOSIGNAL 0x4000u
#define LX_MSG_CMSG_CLOEXEC 0x40000000u

/* `shutdown` `how`. */
#define LX_SHUT_RD 0
#define LX_SHUT_WR 1
#define LX_SHUT_RDWR 2

/* Socket option levels, names and control messages. */
#define LX_SOL_SOCKET 1
#define LX_SO_REUSEADDR 2
#define LX_SO_TYPE 3
#define LX_SO_ERROR 4
#define LX_SO_SNDBUF 7
#define LX_SO_RCVBUF 8
#define LX_SO_KEEPALIVE 9
#define LX_SO_PASSCRED 16
#define LX_SO_PEERCRED 17
#define LX_SO_ACCEPTCONN 30
#define LX_SO_PROTOCOL 38
#define LX_SO_DOMAIN 39
#define LX_SCM_RIGHTS 1

/* `poll` event bits. */
#define LX_POLLIN 0x1
#define LX_POLLPRI 0x2
#define LX_POLLOUT 0x4
#define LX_POLLERR 0x8
#define LX_POLLHUP 0x10
#define LX_POLLNVAL 0x20
#define LX_POLLRDNORM 0x40
#define LX_POLLRDBAND 0x80
#define LX_POLLWRNORM 0x100
#define LX_POLLWRBAND 0x200
#define LX_POLLRDHUP 0x2000

/* ioctl request numbers (Linux's asm-generic values); what each one carries is
 * in `ioctl::IOCTLS`. */
#define LX_TCGETS 0x5401u
#define LX_TCSETS 0x5402u
#define LX_TCSETSW 0x5403u
#define LX_TCSETSF 0x5404u
#define LX_TCSBRK 0x5409u
#define LX_TCXONC 0x540Au
#define LX_TCFLSH 0x540Bu
#define LX_TIOCSCTTY 0x540Eu
#define LX_TIOCGPGRP 0x540Fu
#define LX_TIOCSPGRP 0x5410u
#define LX_TIOCOUTQ 0x5411u
#define LX_TIOCGWINSZ 0x5413u
#define LX_TIOCSWINSZ 0x5414u
#define LX_FIONREAD 0x541Bu
#define LX_TIOCINQ 0x541Bu
#define LX_FIONBIO 0x5421u
#define LX_TIOCNOTTY 0x5422u
#define LX_TIOCGSID 0x5429u
#define LX_TIOCGPTN 0x80045430u
#define LX_TIOCSPTLCK 0x40045431u
#define LX_TIOCGPTLCK 0x80045439u
#define LX_FIONCLEX 0x5450u /* Done by the shim (fcntl F_SETFD), never sent to the kernel. */
#define LX_FIOCLEX 0x5451u /* Done by the shim (fcntl F_SETFD), never sent to the kernel. */

/* Plain-value arguments of `TCFLSH` and `TCXONC`. */
#define LX_TCIFLUSH 0
#define LX_TCOFLUSH 1
#define LX_TCIOFLUSH 2
#define LX_TCOOFF 0
#define LX_TCOON 1
#define LX_TCIOFF 2
#define LX_TCION 3

/* `struct termios` `c_iflag` bits. */
#define LX_IGNBRK 01u
#define LX_BRKINT 02u
#define LX_IGNPAR 04u
#define LX_PARMRK 010u
#define LX_INPCK 020u
#define LX_ISTRIP 040u
#define LX_INLCR 0100u
#define LX_IGNCR 0200u
#define LX_ICRNL 0400u
#define LX_IUCLC 01000u
#define LX_IXON 02000u
#define LX_IXANY 04000u
#define LX_IXOFF 010000u
#define LX_IMAXBEL 020000u
#define LX_IUTF8 040000u

/* `struct termios` `c_oflag` bits and fields. */
#define LX_OPOST 01u
#define LX_OLCUC 02u
#define LX_ONLCR 04u
#define LX_OCRNL 010u
#define LX_ONOCR 020u
#define LX_ONLRET 040u
#define LX_OFILL 0100u
#define LX_OFDEL 0200u
#define LX_NLDLY 0400u
#define LX_NL0 0u
#define LX_NL1 0400u
#define LX_CRDLY 03000u
#define LX_CR0 0u
#define LX_CR1 01000u
#define LX_CR2 02000u
#define LX_CR3 03000u
#define LX_TABDLY 014000u
#define LX_TAB0 0u
#define LX_TAB1 04000u
#define LX_TAB2 010000u
#define LX_TAB3 014000u
#define LX_XTABS 014000u
#define LX_BSDLY 020000u
#define LX_BS0 0u
#define LX_BS1 020000u
#define LX_VTDLY 040000u
#define LX_VT0 0u
#define LX_VT1 040000u
#define LX_FFDLY 0100000u
#define LX_FF0 0u
#define LX_FF1 0100000u

/* `struct termios` `c_cflag` bits, fields and baud codes. */
#define LX_CBAUD 010017u
#define LX_B0 0u
#define LX_B50 01u
#define LX_B75 02u
#define LX_B110 03u
#define LX_B134 04u
#define LX_B150 05u
#define LX_B200 06u
#define LX_B300 07u
#define LX_B600 010u
#define LX_B1200 011u
#define LX_B1800 012u
#define LX_B2400 013u
#define LX_B4800 014u
#define LX_B9600 015u
#define LX_B19200 016u
#define LX_B38400 017u
#define LX_EXTA 016u
#define LX_EXTB 017u
#define LX_CSIZE 060u
#define LX_CS5 0u
#define LX_CS6 020u
#define LX_CS7 040u
#define LX_CS8 060u
#define LX_CSTOPB 0100u
#define LX_CREAD 0200u
#define LX_PARENB 0400u
#define LX_PARODD 01000u
#define LX_HUPCL 02000u
#define LX_CLOCAL 04000u
#define LX_CBAUDEX 010000u
#define LX_BOTHER 010000u
#define LX_B57600 010001u
#define LX_B115200 010002u
#define LX_B230400 010003u
#define LX_B460800 010004u
#define LX_B500000 010005u
#define LX_B576000 010006u
#define LX_B921600 010007u
#define LX_B1000000 010010u
#define LX_B1152000 010011u
#define LX_B1500000 010012u
#define LX_B2000000 010013u
#define LX_B2500000 010014u
#define LX_B3000000 010015u
#define LX_B3500000 010016u
#define LX_B4000000 010017u
#define LX_CIBAUD 02003600000u /* Input baud rate bits (the CBAUD field shifted by IBSHIFT). */
#define LX_IBSHIFT 020u
#define LX_CMSPAR 010000000000u
#define LX_CRTSCTS 020000000000u

/* `struct termios` `c_lflag` bits. */
#define LX_ISIG 01u
#define LX_ICANON 02u
#define LX_XCASE 04u
#define LX_ECHO 010u
#define LX_ECHOE 020u
#define LX_ECHOK 040u
#define LX_ECHONL 0100u
#define LX_NOFLSH 0200u
#define LX_TOSTOP 0400u
#define LX_ECHOCTL 01000u
#define LX_ECHOPRT 02000u
#define LX_ECHOKE 04000u
#define LX_FLUSHO 010000u
#define LX_PENDIN 040000u
#define LX_IEXTEN 0100000u
#define LX_EXTPROC 0200000u

/* `struct termios` `c_cc` indices and its length. */
#define LX_VINTR 0
#define LX_VQUIT 1
#define LX_VERASE 2
#define LX_VKILL 3
#define LX_VEOF 4
#define LX_VTIME 5
#define LX_VMIN 6
#define LX_VSWTC 7
#define LX_VSTART 8
#define LX_VSTOP 9
#define LX_VSUSP 10
#define LX_VEOL 11
#define LX_VREPRINT 12
#define LX_VDISCARD 13
#define LX_VWERASE 14
#define LX_VLNEXT 15
#define LX_VEOL2 16
#define LX_NCCS 32 /* Length of `c_cc` in the userspace struct. */

/* Limits the ABI enforces as Linux does. */
#define LX_IOV_MAX 1024u /* Most iovecs one call takes (`EINVAL`, `EMSGSIZE` for sockets). */
#define LX_PATH_MAX 4096u /* Longest path, NUL included (`ENAMETOOLONG`). */
#define LX_PIPE_BUF 4096u /* Pipe writes up to this size are atomic. */
#define LX_SCM_MAX_FD 253u /* Most fds one SCM_RIGHTS message carries. */

/* The sidecar's extension of WASI `fdflags`: wasi-libc's `open()` passes the
 * SDK's `O_NOCTTY` through in a bit WASI leaves unused. */
#define SC_FDFLAGS_NOCTTY 0x200

/* The WASI errno every `host_*` call (and WASI call) returns: the numbering
 * wasi-libc's `errno` uses, so the SDK stores it unchanged. */
#define SC_WASI_E2BIG 1
#define SC_WASI_EACCES 2
#define SC_WASI_EADDRINUSE 3
#define SC_WASI_EADDRNOTAVAIL 4
#define SC_WASI_EAFNOSUPPORT 5
#define SC_WASI_EAGAIN 6
#define SC_WASI_EALREADY 7
#define SC_WASI_EBADF 8
#define SC_WASI_EBUSY 10
#define SC_WASI_ECHILD 12
#define SC_WASI_ECONNABORTED 13
#define SC_WASI_ECONNREFUSED 14
#define SC_WASI_ECONNRESET 15
#define SC_WASI_EDEADLK 16
#define SC_WASI_EDESTADDRREQ 17
#define SC_WASI_EDOM 18
#define SC_WASI_EEXIST 20
#define SC_WASI_EFAULT 21
#define SC_WASI_EFBIG 22
#define SC_WASI_EINPROGRESS 26
#define SC_WASI_EINTR 27
#define SC_WASI_EINVAL 28
#define SC_WASI_EIO 29
#define SC_WASI_EISCONN 30
#define SC_WASI_EISDIR 31
#define SC_WASI_ELOOP 32
#define SC_WASI_EMFILE 33
#define SC_WASI_EMLINK 34
#define SC_WASI_EMSGSIZE 35
#define SC_WASI_ENAMETOOLONG 37
#define SC_WASI_ENETUNREACH 40
#define SC_WASI_ENFILE 41
#define SC_WASI_ENOBUFS 42
#define SC_WASI_ENODEV 43
#define SC_WASI_ENOENT 44
#define SC_WASI_ENOEXEC 45
#define SC_WASI_ENOLCK 46
#define SC_WASI_ENOMEM 48
#define SC_WASI_ENOPROTOOPT 50
#define SC_WASI_ENOSPC 51
#define SC_WASI_ENOSYS 52
#define SC_WASI_ENOTCONN 53
#define SC_WASI_ENOTDIR 54
#define SC_WASI_ENOTEMPTY 55
#define SC_WASI_ENOTSOCK 57
#define SC_WASI_EOPNOTSUPP 58
#define SC_WASI_ENOTTY 59
#define SC_WASI_ENXIO 60
#define SC_WASI_EPERM 63
#define SC_WASI_EPIPE 64
#define SC_WASI_EPROTONOSUPPORT 66
#define SC_WASI_EPROTOTYPE 67
#define SC_WASI_ERANGE 68
#define SC_WASI_EROFS 69
#define SC_WASI_ESPIPE 70
#define SC_WASI_ESRCH 71
#define SC_WASI_ETIMEDOUT 73
#define SC_WASI_ETXTBSY 74
#define SC_WASI_EXDEV 75

#endif
