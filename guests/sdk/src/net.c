/* AF_UNIX sockets over host_net (SPEC.md, `host_net`). The SDK's
 * <sys/socket.h> uses Linux constants, which the ABI takes unchanged;
 * struct iovec is the WASI iovec layout and struct sockaddr_un is the raw
 * Linux one, so most calls pass their arguments through. The work here is
 * the msghdr <-> ABI translation (SCM_RIGHTS control messages <-> fds
 * arrays) and Linux's address-length conventions.
 *
 * Replaces wasi-libc's accept.o (accept, accept4), recv.o, send.o,
 * shutdown.o and getsockopt.o: libsidecar.a defines every symbol of those
 * objects and is linked first, so they are never pulled in. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "host_net.h"
#include "host_proc.h"
#include "internal.h"

/* Linux limits: at most SCM_MAX_FD descriptors per message, UIO_MAXIOV
 * iovecs per call. */
#define SCM_MAX_FD 253
#define UIO_MAXIOV 1024

_Static_assert(sizeof(struct iovec) == 8, "struct iovec is a WASI iovec");
_Static_assert(sizeof(struct sockaddr_un) == 110, "Linux sockaddr_un");
_Static_assert(sizeof(struct cmsghdr) == 12, "musl wasm32 cmsghdr");
_Static_assert(sizeof(struct ucred) == 12, "struct ucred");

/* Returned addresses go through a buffer large enough for any sockaddr_un,
 * then are copied truncated to the caller's length, which is then set to
 * the full length, as Linux does. */
union addr_buf {
    struct sockaddr_storage ss;
    struct sockaddr_un un;
};

static void put_addr(struct sockaddr *dst, socklen_t *len, const union addr_buf *src,
                     uint32_t got) {
    size_t n = got < (uint32_t)*len ? got : (size_t)*len;
    if (n > sizeof *src) n = sizeof *src;
    if (n) memcpy(dst, src, n);
    *len = got;
}

int socket(int domain, int type, int protocol) {
    int32_t fd;
    int32_t r = __host_net_socket(domain, type, protocol, HP(&fd));
    if (r) return errno_ret(r);
    return fd;
}

int socketpair(int domain, int type, int protocol, int fds[2]) {
    int32_t out[2];
    int32_t r = __host_net_socketpair(domain, type, protocol, HP(out));
    if (r) return errno_ret(r);
    fds[0] = out[0];
    fds[1] = out[1];
    return 0;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    int32_t r = __host_net_bind(fd, HP(addr), len);
    return errno_ret(r);
}

int listen(int fd, int backlog) {
    int32_t r = __host_net_listen(fd, backlog);
    return errno_ret(r);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    int32_t r = __host_net_connect(fd, HP(addr), len);
    return errno_ret(r);
}

int accept4(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len, int flags) {
    union addr_buf buf;
    uint32_t got = 0;
    int32_t newfd;
    if (addr) {
        if (!len) return errno_ret(EFAULT);
        if ((int)*len < 0) return errno_ret(EINVAL);
    }
    int32_t r = __host_net_accept4(fd, (uint32_t)flags, addr ? HP(&buf) : 0,
                                   addr ? sizeof buf : 0, HP(&got), HP(&newfd));
    if (r) return errno_ret(r);
    if (addr) put_addr(addr, len, &buf, got);
    return newfd;
}

int accept(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len) {
    return accept4(fd, addr, len, 0);
}

typedef int32_t (*name_fn)(int32_t, uint32_t, uint32_t, uint32_t);

static int get_name(name_fn fn, int fd, struct sockaddr *addr, socklen_t *len) {
    union addr_buf buf;
    uint32_t got = 0;
    if (!len) return errno_ret(EFAULT);
    if ((int)*len < 0) return errno_ret(EINVAL);
    int32_t r = fn(fd, HP(&buf), sizeof buf, HP(&got));
    if (r) return errno_ret(r);
    if (!addr && *len && got) return errno_ret(EFAULT);
    if (addr) put_addr(addr, len, &buf, got);
    else *len = got;
    return 0;
}

int getsockname(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len) {
    return get_name(__host_net_getsockname, fd, addr, len);
}

int getpeername(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len) {
    return get_name(__host_net_getpeername, fd, addr, len);
}

int shutdown(int fd, int how) {
    int32_t r = __host_net_shutdown(fd, how);
    return errno_ret(r);
}

int getsockopt(int fd, int level, int name, void *__restrict val, socklen_t *__restrict len) {
    if (!len) return errno_ret(EFAULT);
    if ((int)*len < 0) return errno_ret(EINVAL);
    uint32_t got = 0;
    int32_t r = __host_net_getsockopt(fd, level, name, HP(val), *len, HP(&got));
    if (r) return errno_ret(r);
    *len = got;
    return 0;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
    if ((int)len < 0) return errno_ret(EINVAL);
    int32_t r = __host_net_setsockopt(fd, level, name, HP(val), len);
    return errno_ret(r);
}

/* There is no out-of-band data on AF_UNIX sockets: never at the mark. */
int sockatmark(int fd) {
    int type;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)) return -1;
    return 0;
}

/* Collects the descriptors of every SCM_RIGHTS message in `msg` (Linux
 * accumulates them, up to SCM_MAX_FD in all). Returns 0 or an errno. */
static int collect_fds(const struct msghdr *msg, int32_t *fds, uint32_t *nfds) {
    *nfds = 0;
    if (!msg->msg_control || msg->msg_controllen == 0) return 0;
    if (msg->msg_controllen > INT_MAX) return ENOBUFS;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        size_t off = (size_t)((unsigned char *)c - (unsigned char *)msg->msg_control);
        if (c->cmsg_len < sizeof *c || c->cmsg_len > msg->msg_controllen - off) return EINVAL;
        if (c->cmsg_level != SOL_SOCKET) continue;
        switch (c->cmsg_type) {
        case SCM_RIGHTS: {
            size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            if (n == 0) break;
            if (*nfds + n > SCM_MAX_FD) return EINVAL;
            memcpy(fds + *nfds, CMSG_DATA(c), n * sizeof(int));
            *nfds += (uint32_t)n;
            break;
        }
        case SCM_CREDENTIALS:
            /* Linux checks that the sender may claim these credentials;
             * the kernel does not carry them, so only the size is checked. */
            if (c->cmsg_len != CMSG_LEN(sizeof(struct ucred))) return EINVAL;
            break;
        default:
            return EINVAL;
        }
    }
    return 0;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    int32_t fds[SCM_MAX_FD];
    uint32_t nfds = 0, sent = 0;
    if (msg->msg_iovlen < 0 || msg->msg_iovlen > UIO_MAXIOV) return errno_ret(EMSGSIZE);
    int err = collect_fds(msg, fds, &nfds);
    if (err) return errno_ret(err);
    int32_t r = __host_net_sendmsg(fd, HP(msg->msg_iov), (uint32_t)msg->msg_iovlen,
                                   nfds ? HP(fds) : 0, nfds, (uint32_t)flags,
                                   HP(msg->msg_name), msg->msg_name ? msg->msg_namelen : 0,
                                   HP(&sent));
    if (r) return errno_ret(r);
    return (ssize_t)sent;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    int32_t fds[SCM_MAX_FD];
    union addr_buf buf;
    struct sidecar_recv_result res = {0, 0, 0, 0};
    if (msg->msg_iovlen < 0 || msg->msg_iovlen > UIO_MAXIOV) return errno_ret(EMSGSIZE);
    if (msg->msg_name && (int)msg->msg_namelen < 0) return errno_ret(EINVAL);
    /* Room for descriptors: what fits after one cmsghdr (Linux's
     * scm_max_fds); none leaves them to be closed with MSG_CTRUNC. */
    uint32_t cap = 0;
    if (msg->msg_control && msg->msg_controllen > sizeof(struct cmsghdr))
        cap = (msg->msg_controllen - sizeof(struct cmsghdr)) / sizeof(int);
    if (cap > SCM_MAX_FD) cap = SCM_MAX_FD;
    int32_t r = __host_net_recvmsg(fd, HP(msg->msg_iov), (uint32_t)msg->msg_iovlen, HP(fds), cap,
                                   (uint32_t)flags, msg->msg_name ? HP(&buf) : 0,
                                   msg->msg_name ? sizeof buf : 0, HP(&res));
    if (r) return errno_ret(r);
    if (msg->msg_name) put_addr(msg->msg_name, &msg->msg_namelen, &buf, res.addr_len);
    int out_flags = (int)res.msg_flags | (flags & MSG_CMSG_CLOEXEC);
    if (res.nfds > cap) {
        /* Not per the ABI; never install more than there is room for. */
        for (uint32_t i = cap; i < res.nfds; i++) close(fds[i]);
        res.nfds = cap;
        out_flags |= MSG_CTRUNC;
    }
    if (res.nfds) {
        struct cmsghdr *c = (struct cmsghdr *)msg->msg_control;
        c->cmsg_len = CMSG_LEN(res.nfds * sizeof(int));
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        memcpy(CMSG_DATA(c), fds, res.nfds * sizeof(int));
        size_t used = CMSG_SPACE(res.nfds * sizeof(int));
        if (used > msg->msg_controllen) used = msg->msg_controllen;
        msg->msg_controllen = used;
    } else {
        msg->msg_controllen = 0;
    }
    msg->msg_flags = out_flags;
    return (ssize_t)res.bytes;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
               socklen_t alen) {
    struct iovec iov = {(void *)buf, len};
    uint32_t sent = 0;
    int32_t r = __host_net_sendmsg(fd, HP(&iov), 1, 0, 0, (uint32_t)flags, HP(addr),
                                   addr ? alen : 0, HP(&sent));
    if (r) return errno_ret(r);
    return (ssize_t)sent;
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
    return sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t recvfrom(int fd, void *__restrict buf, size_t len, int flags,
                 struct sockaddr *__restrict addr, socklen_t *__restrict alen) {
    struct iovec iov = {buf, len};
    union addr_buf abuf;
    struct sidecar_recv_result res = {0, 0, 0, 0};
    if (addr) {
        if (!alen) return errno_ret(EFAULT);
        if ((int)*alen < 0) return errno_ret(EINVAL);
    }
    int32_t r = __host_net_recvmsg(fd, HP(&iov), 1, 0, 0, (uint32_t)flags,
                                   addr ? HP(&abuf) : 0, addr ? sizeof abuf : 0, HP(&res));
    if (r) return errno_ret(r);
    if (addr) put_addr(addr, alen, &abuf, res.addr_len);
    return (ssize_t)res.bytes;
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
    return recvfrom(fd, buf, len, flags, NULL, NULL);
}

/* Linux returns the number of messages handled if any was, else the error. */
int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int n, unsigned int flags) {
    if (n > UIO_MAXIOV) n = UIO_MAXIOV;
    unsigned int i;
    for (i = 0; i < n; i++) {
        ssize_t r = sendmsg(fd, &msgs[i].msg_hdr, (int)flags);
        if (r < 0) return i ? (int)i : -1;
        msgs[i].msg_len = (unsigned int)r;
    }
    return (int)i;
}

/* The timeout is not supported (it is checked only after each message on
 * Linux too, so a blocking call may overrun it there as well); it is
 * ignored. MSG_WAITFORONE makes the calls after the first non-blocking. */
int recvmmsg(int fd, struct mmsghdr *msgs, unsigned int n, unsigned int flags,
             struct timespec *timeout) {
    (void)timeout;
    if (n > UIO_MAXIOV) n = UIO_MAXIOV;
    unsigned int i;
    int f = (int)(flags & ~(unsigned)MSG_WAITFORONE);
    for (i = 0; i < n; i++) {
        ssize_t r = recvmsg(fd, &msgs[i].msg_hdr, f);
        if (r < 0) return i ? (int)i : -1;
        msgs[i].msg_len = (unsigned int)r;
        if (flags & MSG_WAITFORONE) f |= MSG_DONTWAIT;
    }
    return (int)i;
}
