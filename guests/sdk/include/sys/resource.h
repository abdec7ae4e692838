/* sidecar SDK: <sys/resource.h> = wasi-libc's (getrusage) plus the POSIX
 * resource limits it hides; values as on Linux. getrlimit/setrlimit are
 * bookkeeping in the shim (src/host.c). (The X server raises RLIMIT_CORE
 * for -core.) */
#ifndef __SIDECAR_SYS_RESOURCE_H
#define __SIDECAR_SYS_RESOURCE_H

#include_next <sys/resource.h>

#ifndef RLIMIT_CORE
#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned long long rlim_t;

struct rlimit {
    rlim_t rlim_cur;
    rlim_t rlim_max;
};

int getrlimit(int, struct rlimit *);
int setrlimit(int, const struct rlimit *);

#define RLIM_INFINITY (~0ULL)
#define RLIM_SAVED_CUR RLIM_INFINITY
#define RLIM_SAVED_MAX RLIM_INFINITY

#define RLIMIT_CPU 0
#define RLIMIT_FSIZE 1
#define RLIMIT_DATA 2
#define RLIMIT_STACK 3
#define RLIMIT_CORE 4
#define RLIMIT_RSS 5
#define RLIMIT_NPROC 6
#define RLIMIT_NOFILE 7
#define RLIMIT_MEMLOCK 8
#define RLIMIT_AS 9
#define RLIMIT_LOCKS 10
#define RLIMIT_SIGPENDING 11
#define RLIMIT_MSGQUEUE 12
#define RLIMIT_NICE 13
#define RLIMIT_RTPRIO 14
#define RLIMIT_RTTIME 15
#define RLIMIT_NLIMITS 16

#ifdef __cplusplus
}
#endif
#endif

#endif
