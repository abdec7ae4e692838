/* sidecar SDK: <poll.h> with Linux POLL* bits (wasi-libc's are WASI-only
 * values). poll() and ppoll() are implemented by libsidecar.a over
 * host_net.poll, which takes the Linux struct pollfd and bits unchanged. */
#ifndef __SIDECAR_POLL_H
#define __SIDECAR_POLL_H

#include_next <poll.h>

#undef POLLIN
#undef POLLPRI
#undef POLLOUT
#undef POLLERR
#undef POLLHUP
#undef POLLNVAL
#undef POLLRDNORM
#undef POLLRDBAND
#undef POLLWRNORM
#undef POLLWRBAND
#undef POLLMSG
#undef POLLRDHUP

#define POLLIN 0x001
#define POLLPRI 0x002
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define POLLRDNORM 0x040
#define POLLRDBAND 0x080
#define POLLWRNORM 0x100
#define POLLWRBAND 0x200
#define POLLMSG 0x400
#define POLLRDHUP 0x2000

#endif
