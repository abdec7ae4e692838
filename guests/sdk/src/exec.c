/* fork and the exec family. A wasm guest cannot copy or replace its own
 * instance; new processes come from posix_spawn (host_proc.spawn). These
 * exist so that portable code with fork/exec paths links (the X server's
 * Popen, for one); they fail with ENOSYS. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "internal.h"

pid_t fork(void) { return errno_ret(ENOSYS); }

int execve(const char *path, char *const argv[], char *const envp[]) {
    (void)path, (void)argv, (void)envp;
    return errno_ret(ENOSYS);
}

int execv(const char *path, char *const argv[]) { return execve(path, argv, NULL); }
int execvp(const char *file, char *const argv[]) { return execve(file, argv, NULL); }
int execl(const char *path, const char *arg, ...) {
    (void)arg;
    return execve(path, NULL, NULL);
}

int execlp(const char *file, const char *arg, ...) {
    (void)arg;
    return execve(file, NULL, NULL);
}

int execle(const char *path, const char *arg, ...) {
    (void)arg;
    return execve(path, NULL, NULL);
}
