/* Process identity, process groups, sessions, kill and waitpid over
 * host_proc. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_proc.h"
#include "internal.h"

pid_t getpid(void) { return __host_proc_getpid(); }

pid_t getppid(void) { return __host_proc_getppid(); }

pid_t getpgid(pid_t pid) {
    int32_t out;
    int32_t r = __host_proc_getpgid(pid, HP(&out));
    if (r) return errno_ret(r);
    return out;
}

pid_t getpgrp(void) { return getpgid(0); }

int setpgid(pid_t pid, pid_t pgid) {
    return errno_ret(__host_proc_setpgid(pid, pgid));
}

pid_t setpgrp(void) { return setpgid(0, 0); }

pid_t getsid(pid_t pid) {
    int32_t out;
    int32_t r = __host_proc_getsid(pid, HP(&out));
    if (r) return errno_ret(r);
    return out;
}

pid_t setsid(void) {
    int32_t out;
    int32_t r = __host_proc_setsid(HP(&out));
    if (r) return errno_ret(r);
    return out;
}

int kill(pid_t pid, int sig) {
    return errno_ret(__host_proc_kill(pid, sig));
}

int killpg(pid_t pgrp, int sig) {
    if (pgrp < 0) return errno_ret(EINVAL);
    return kill(-pgrp, sig);
}

pid_t waitpid(pid_t pid, int *status, int options) {
    int32_t st = 0, got = 0;
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED)) return errno_ret(EINVAL);
    int32_t r = __host_proc_wait(pid, (uint32_t)options, HP(&st), HP(&got));
    if (r) return errno_ret(r);
    if (got > 0 && status) *status = st;
    return got;
}

pid_t wait(int *status) { return waitpid(-1, status, 0); }

pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage) {
    pid_t r = waitpid(pid, status, options);
    if (r > 0 && usage) memset(usage, 0, sizeof *usage);
    return r;
}

pid_t wait3(int *status, int options, struct rusage *usage) {
    return wait4(-1, status, options, usage);
}
