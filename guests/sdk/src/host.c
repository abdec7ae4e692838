/* Host name, name resolution and resource limits.
 *
 * gethostname() reports $HOSTNAME, or "sidecar". The VM has no network, so
 * gethostbyname() finds nothing (h_errno = HOST_NOT_FOUND).
 *
 * Resource limits are bookkeeping: getrlimit() reports RLIM_INFINITY except
 * RLIMIT_NOFILE, 1024 soft and hard (the kernel's per-process fd limit), and
 * setrlimit() accepts any change that keeps soft <= hard and does not raise
 * a hard limit, as Linux does for a process without CAP_SYS_RESOURCE. The
 * limits are not enforced beyond what the kernel enforces by itself.
 * sysconf(_SC_OPEN_MAX) reports the RLIMIT_NOFILE soft limit, as on Linux
 * (<unistd.h> routes sysconf here; wasi-libc's answers -1). */
#define _GNU_SOURCE
#ifndef _WASI_EMULATED_PROCESS_CLOCKS
#define _WASI_EMULATED_PROCESS_CLOCKS
#endif
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

int h_errno;

int gethostname(char *name, size_t len) {
    const char *h = getenv("HOSTNAME");
    if (!h || !*h) h = "sidecar";
    size_t n = strlen(h);
    if (n >= len) return errno_ret(ENAMETOOLONG);
    memcpy(name, h, n + 1);
    return 0;
}

struct hostent *gethostbyname(const char *name) {
    (void)name;
    h_errno = HOST_NOT_FOUND;
    return NULL;
}

#define FD_LIMIT 1024

static struct rlimit limits[RLIMIT_NLIMITS];
static int limits_ready;

static void init_limits(void) {
    for (int i = 0; i < RLIMIT_NLIMITS; i++) {
        limits[i].rlim_cur = RLIM_INFINITY;
        limits[i].rlim_max = RLIM_INFINITY;
    }
    limits[RLIMIT_NOFILE].rlim_cur = FD_LIMIT;
    limits[RLIMIT_NOFILE].rlim_max = FD_LIMIT;
    limits_ready = 1;
}

int getrlimit(int resource, struct rlimit *rl) {
    if (resource < 0 || resource >= RLIMIT_NLIMITS) return errno_ret(EINVAL);
    if (!limits_ready) init_limits();
    *rl = limits[resource];
    return 0;
}

int setrlimit(int resource, const struct rlimit *rl) {
    if (resource < 0 || resource >= RLIMIT_NLIMITS || rl->rlim_cur > rl->rlim_max)
        return errno_ret(EINVAL);
    if (!limits_ready) init_limits();
    if (rl->rlim_max > limits[resource].rlim_max) return errno_ret(EPERM);
    limits[resource] = *rl;
    return 0;
}

long __sidecar_sysconf(int name) {
    if (name == _SC_OPEN_MAX) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
    }
    return sysconf(name);
}
