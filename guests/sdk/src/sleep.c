/* clock_nanosleep/nanosleep with POSIX errors. wasi-libc's clock_nanosleep
 * reports every failure as ENOTSUP, so a sleep a signal cut short never
 * said EINTR; sleep() and usleep() in libc.a call this one. */
#include <errno.h>
#include <time.h>
#include <wasi/api.h>

#include "internal.h"

static int clock_id(clockid_t c, __wasi_clockid_t *out) {
    if (c == CLOCK_REALTIME) *out = __WASI_CLOCKID_REALTIME;
    else if (c == CLOCK_MONOTONIC) *out = __WASI_CLOCKID_MONOTONIC;
    else return EINVAL;
    return 0;
}

static __wasi_timestamp_t ns(const struct timespec *t) {
    return (__wasi_timestamp_t)t->tv_sec * 1000000000u + (__wasi_timestamp_t)t->tv_nsec;
}

/* Returns an errno value, as POSIX specifies for clock_nanosleep. */
int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    __wasi_clockid_t id;
    if (clock_id(clock, &id)) return EINVAL;
    if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000) return EINVAL;
    struct timespec start;
    clock_gettime(clock, &start);
    __wasi_subscription_t sub = {
        .userdata = 0,
        .u.tag = __WASI_EVENTTYPE_CLOCK,
        .u.u.clock = {.id = id,
                      .timeout = ns(req),
                      .precision = 0,
                      .flags = (flags & TIMER_ABSTIME) ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0},
    };
    __wasi_event_t ev;
    __wasi_size_t n;
    __wasi_errno_t e = __wasi_poll_oneoff(&sub, &ev, 1, &n);
    if (e == 0) e = ev.error;
    if (e == __WASI_ERRNO_INTR && rem && !(flags & TIMER_ABSTIME)) {
        struct timespec now;
        clock_gettime(clock, &now);
        __wasi_timestamp_t spent = ns(&now) - ns(&start);
        __wasi_timestamp_t left = spent >= ns(req) ? 0 : ns(req) - spent;
        rem->tv_sec = (time_t)(left / 1000000000u);
        rem->tv_nsec = (long)(left % 1000000000u);
    }
    return e;
}

int nanosleep(const struct timespec *req, struct timespec *rem) {
    return errno_ret(clock_nanosleep(CLOCK_REALTIME, 0, req, rem));
}
