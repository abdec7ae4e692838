/* Interval timers: the kernel keeps ITIMER_REAL per process and raises
 * SIGALRM when it expires (host_proc.setitimer/getitimer, in microseconds).
 * alarm() and ualarm() are that timer, as on Linux. */
#include <errno.h>
#include <stdint.h>
#include <sys/time.h>
#include <unistd.h>

#include "host_proc.h"
#include "internal.h"

HOST_PROC(setitimer)
int32_t __host_proc_setitimer(int32_t which, int64_t interval_us, int64_t value_us, uint32_t old_out);
HOST_PROC(getitimer) int32_t __host_proc_getitimer(int32_t which, uint32_t out);

static int64_t to_us(const struct timeval *tv) {
    if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000) return -1;
    if (tv->tv_sec > (INT64_MAX - 999999) / 1000000) return INT64_MAX;
    return (int64_t)tv->tv_sec * 1000000 + tv->tv_usec;
}

static void from_us(uint64_t us, struct timeval *tv) {
    tv->tv_sec = (time_t)(us / 1000000);
    tv->tv_usec = (suseconds_t)(us % 1000000);
}

static void put(const uint64_t raw[2], struct itimerval *out) {
    from_us(raw[0], &out->it_interval);
    from_us(raw[1], &out->it_value);
}

int setitimer(int which, const struct itimerval *restrict nv, struct itimerval *restrict ov) {
    if (!nv) return errno_ret(EFAULT);
    int64_t interval = to_us(&nv->it_interval), value = to_us(&nv->it_value);
    if (interval < 0 || value < 0) return errno_ret(EINVAL);
    uint64_t raw[2];
    int32_t e = __host_proc_setitimer(which, interval, value, ov ? HP(raw) : 0);
    if (e) return errno_ret(e);
    if (ov) put(raw, ov);
    return 0;
}

int getitimer(int which, struct itimerval *cur) {
    uint64_t raw[2];
    int32_t e = __host_proc_getitimer(which, HP(raw));
    if (e) return errno_ret(e);
    put(raw, cur);
    return 0;
}

/* Linux rounds what is left to the nearest second, and reports a timer
 * with less than a second left as 1, never 0 (still armed). */
unsigned alarm(unsigned seconds) {
    struct itimerval nv = {{0, 0}, {(time_t)seconds, 0}}, ov;
    if (setitimer(ITIMER_REAL, &nv, &ov) != 0) return 0;
    unsigned left = (unsigned)ov.it_value.tv_sec;
    if (ov.it_value.tv_usec >= 500000 || (left == 0 && ov.it_value.tv_usec > 0)) left++;
    return left;
}

unsigned ualarm(unsigned value, unsigned interval) {
    struct itimerval nv = {{(time_t)(interval / 1000000), (suseconds_t)(interval % 1000000)},
                           {(time_t)(value / 1000000), (suseconds_t)(value % 1000000)}},
                     ov;
    if (setitimer(ITIMER_REAL, &nv, &ov) != 0) return (unsigned)-1;
    return (unsigned)(ov.it_value.tv_sec * 1000000 + ov.it_value.tv_usec);
}
