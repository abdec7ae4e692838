/* Private to the shim: the `host_net` import module (see SPEC.md). Every
 * import returns a WASI errno (0 = success); constants, struct pollfd and
 * socket addresses are Linux's, which the SDK headers already use, so values
 * pass through unchanged. */
#ifndef SIDECAR_HOST_NET_H
#define SIDECAR_HOST_NET_H

#include <stdint.h>

#define HOST_NET(name) \
    __attribute__((import_module("host_net"), import_name(#name)))

HOST_NET(socket)
int32_t __host_net_socket(int32_t domain, int32_t type, int32_t protocol, uint32_t fd_out);
HOST_NET(socketpair)
int32_t __host_net_socketpair(int32_t domain, int32_t type, int32_t protocol,
                              uint32_t fds_out);
HOST_NET(bind) int32_t __host_net_bind(int32_t fd, uint32_t addr, uint32_t addr_len);
HOST_NET(listen) int32_t __host_net_listen(int32_t fd, int32_t backlog);
HOST_NET(accept4)
int32_t __host_net_accept4(int32_t fd, uint32_t flags, uint32_t addr, uint32_t addr_cap,
                           uint32_t addr_len_out, uint32_t fd_out);
HOST_NET(connect) int32_t __host_net_connect(int32_t fd, uint32_t addr, uint32_t addr_len);
HOST_NET(sendmsg)
int32_t __host_net_sendmsg(int32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t fds,
                           uint32_t nfds, uint32_t flags, uint32_t addr, uint32_t addr_len,
                           uint32_t sent_out);
HOST_NET(recvmsg)
int32_t __host_net_recvmsg(int32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t fds,
                           uint32_t fds_cap, uint32_t flags, uint32_t addr, uint32_t addr_cap,
                           uint32_t result);
HOST_NET(shutdown) int32_t __host_net_shutdown(int32_t fd, int32_t how);
HOST_NET(getsockname)
int32_t __host_net_getsockname(int32_t fd, uint32_t addr, uint32_t addr_cap, uint32_t len_out);
HOST_NET(getpeername)
int32_t __host_net_getpeername(int32_t fd, uint32_t addr, uint32_t addr_cap, uint32_t len_out);
HOST_NET(getsockopt)
int32_t __host_net_getsockopt(int32_t fd, int32_t level, int32_t name, uint32_t val,
                              uint32_t val_cap, uint32_t len_out);
HOST_NET(setsockopt)
int32_t __host_net_setsockopt(int32_t fd, int32_t level, int32_t name, uint32_t val,
                              uint32_t val_len);
HOST_NET(poll)
int32_t __host_net_poll(uint32_t fds, uint32_t nfds, int32_t timeout_ms, uint32_t n_out);

/* recvmsg's `result` record. */
struct sidecar_recv_result {
    uint32_t bytes;
    uint32_t nfds;
    uint32_t addr_len;
    uint32_t msg_flags;
};
_Static_assert(sizeof(struct sidecar_recv_result) == 16, "recvmsg result ABI");

#endif
