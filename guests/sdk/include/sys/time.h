/* sidecar SDK: <sys/time.h> = wasi-libc's plus the interval timer it hides.
 * Only ITIMER_REAL exists (host_proc.setitimer, src/itimer.c); it raises
 * SIGALRM. The others fail with EINVAL. */
#ifndef __SIDECAR_SYS_TIME_H
#define __SIDECAR_SYS_TIME_H

#include_next <sys/time.h>

#ifndef ITIMER_REAL
#ifdef __cplusplus
extern "C" {
#endif

#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2

struct itimerval {
    struct timeval it_interval;
    struct timeval it_value;
};

int getitimer(int, struct itimerval *);
int setitimer(int, const struct itimerval *__restrict, struct itimerval *__restrict);

#ifdef __cplusplus
}
#endif
#endif

#endif
