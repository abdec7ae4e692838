/* What dash calls that the SDK does not provide yet. Weak, and linked from
 * an archive after the SDK's shim, so that an SDK implementation, once
 * there, wins. sidecar has no users: every process runs as root
 * (SO_PEERCRED reports uid 0). umask() only remembers the mask: the VFS
 * does not apply one. */
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

__attribute__((weak)) uid_t getuid(void) { return 0; }
__attribute__((weak)) uid_t geteuid(void) { return 0; }
__attribute__((weak)) gid_t getgid(void) { return 0; }
__attribute__((weak)) gid_t getegid(void) { return 0; }

__attribute__((weak)) mode_t umask(mode_t mask) {
    static mode_t cur = 022;
    mode_t old = cur;
    cur = mask & 0777;
    return old;
}
