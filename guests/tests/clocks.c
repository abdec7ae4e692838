/* Checks that CLOCK_REALTIME and CLOCK_MONOTONIC advance across a 100 ms
 * nanosleep (by at least 100 ms and less than 5 s). */
#include <stdio.h>
#include <time.h>

static long long ns(const struct timespec *t) { return (long long)t->tv_sec * 1000000000LL + t->tv_nsec; }

int main(void) {
    struct timespec r0, m0, r1, m1, req = {0, 100 * 1000 * 1000};
    if (clock_gettime(CLOCK_REALTIME, &r0) || clock_gettime(CLOCK_MONOTONIC, &m0)) return 2;
    if (nanosleep(&req, NULL)) return 3;
    if (clock_gettime(CLOCK_REALTIME, &r1) || clock_gettime(CLOCK_MONOTONIC, &m1)) return 4;
    long long dr = ns(&r1) - ns(&r0), dm = ns(&m1) - ns(&m0);
    int rok = dr >= 100000000LL && dr < 5000000000LL;
    int mok = dm >= 100000000LL && dm < 5000000000LL;
    printf("realtime advanced: %s\n", rok ? "yes" : "no");
    printf("monotonic advanced: %s\n", mok ? "yes" : "no");
    printf("realtime plausible: %s\n", r1.tv_sec > 1500000000 ? "yes" : "no");
    return rok && mok && r1.tv_sec > 1500000000 ? 0 : 1;
}
