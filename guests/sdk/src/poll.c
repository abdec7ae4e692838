/* poll, ppoll, select and pselect over host_net.poll (Linux poll(2) over
 * any fd). Replaces wasi-libc's poll.o, select.o and pselect.o (each defines
 * only that symbol).
 *
 * Signal masks: the sidecar has no asynchronous signal delivery into
 * handlers (see signal.c), so ppoll() and pselect() ignore `sigmask`; they
 * otherwise behave like poll() and select() with a timespec timeout (rounded
 * up to whole milliseconds). fd_set is wasi-libc's representation (a count
 * and a list of fds), manipulated only through its FD_* functions. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#include "host_net.h"
#include "host_proc.h"
#include "internal.h"

_Static_assert(sizeof(struct pollfd) == 8, "Linux struct pollfd");

int poll(struct pollfd *fds, nfds_t n, int timeout) {
    uint32_t ready = 0;
    int32_t r = __host_net_poll(HP(fds), (uint32_t)n, timeout, HP(&ready));
    if (r) return errno_ret(r);
    return (int)ready;
}

/* A timespec as poll's millisecond timeout, rounded up; -1 for none;
 * -2 for an invalid one. */
static int timespec_ms(const struct timespec *ts) {
    if (!ts) return -1;
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L) return -2;
    if (ts->tv_sec >= INT_MAX / 1000) return INT_MAX;
    long long ms = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask) {
    (void)mask;
    int ms = timespec_ms(ts);
    if (ms == -2) return errno_ret(EINVAL);
    return poll(fds, n, ms);
}

/* Linux's select(2) event sets (fs/select.c). */
#define IN_SET (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define OUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define EX_SET (POLLPRI)

static void add(struct pollfd *pfd, int16_t *slot, size_t *count, const fd_set *set, int nfds,
                short events) {
    if (!set) return;
    for (size_t i = 0; i < set->__nfds; i++) {
        int fd = set->__fds[i];
        if (fd < 0 || fd >= nfds) continue;
        if (slot[fd] < 0) {
            slot[fd] = (int16_t)*count;
            pfd[*count].fd = fd;
            pfd[*count].events = 0;
            pfd[*count].revents = 0;
            (*count)++;
        }
        pfd[slot[fd]].events |= events;
    }
}

/* Rewrites `set` to the fds of the table whose revents intersect `mask`
 * among those it asked for `want`; returns how many. */
static int collect(fd_set *set, const struct pollfd *pfd, size_t count, short want,
                   short mask) {
    if (!set) return 0;
    int n = 0;
    FD_ZERO(set);
    for (size_t i = 0; i < count; i++) {
        if ((pfd[i].events & want) && (pfd[i].revents & mask)) {
            FD_SET(pfd[i].fd, set);
            n++;
        }
    }
    return n;
}

/* select/pselect with a millisecond timeout (-1 = none). */
static int do_select(int nfds, fd_set *rfds, fd_set *wfds, fd_set *efds, int ms) {
    if (nfds < 0 || nfds > FD_SETSIZE) return errno_ret(EINVAL);
    struct pollfd pfd[FD_SETSIZE];
    int16_t slot[FD_SETSIZE];
    size_t count = 0;
    for (int i = 0; i < nfds; i++) slot[i] = -1;
    /* POLLIN/POLLOUT/POLLPRI double as markers of which set asked. */
    add(pfd, slot, &count, rfds, nfds, POLLIN);
    add(pfd, slot, &count, wfds, nfds, POLLOUT);
    add(pfd, slot, &count, efds, nfds, POLLPRI);
    uint32_t ready = 0;
    int32_t r = __host_net_poll(HP(pfd), (uint32_t)count, ms, HP(&ready));
    if (r) return errno_ret(r);
    for (size_t i = 0; i < count; i++) {
        if (pfd[i].revents & POLLNVAL) return errno_ret(EBADF);
    }
    int n = collect(rfds, pfd, count, POLLIN, IN_SET);
    n += collect(wfds, pfd, count, POLLOUT, OUT_SET);
    n += collect(efds, pfd, count, POLLPRI, EX_SET);
    return n;
}

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Like Linux, select() leaves the time not slept in *tv. */
int select(int nfds, fd_set *__restrict rfds, fd_set *__restrict wfds, fd_set *__restrict efds,
           struct timeval *__restrict tv) {
    int ms = -1;
    int64_t start = 0, total_us = 0;
    if (tv) {
        if (tv->tv_sec < 0 || tv->tv_usec < 0) return errno_ret(EINVAL);
        /* Linux folds whole seconds of tv_usec into tv_sec. */
        int64_t sec = tv->tv_sec + tv->tv_usec / 1000000, usec = tv->tv_usec % 1000000;
        if (sec >= INT_MAX / 1000) {
            ms = INT_MAX;
            total_us = INT64_MAX;
        } else {
            total_us = sec * 1000000 + usec;
            ms = (int)((total_us + 999) / 1000);
        }
        start = now_us();
    }
    int n = do_select(nfds, rfds, wfds, efds, ms);
    if (tv && (n >= 0 || errno == EINTR)) {
        int64_t left = total_us - (now_us() - start);
        if (left < 0 || n == 0) left = 0;
        if (total_us != INT64_MAX) {
            tv->tv_sec = left / 1000000;
            tv->tv_usec = left % 1000000;
        }
    }
    return n;
}

int pselect(int nfds, fd_set *__restrict rfds, fd_set *__restrict wfds, fd_set *__restrict efds,
            const struct timespec *__restrict ts, const sigset_t *__restrict mask) {
    (void)mask;
    int ms = timespec_ms(ts);
    if (ms == -2) return errno_ret(EINVAL);
    return do_select(nfds, rfds, wfds, efds, ms);
}
