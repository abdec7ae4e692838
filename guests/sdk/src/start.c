/* Startup object (always linked, outside the archive): move to the working
 * directory the process was started in (host_proc.initial_cwd), so a spawned
 * child starts in its parent's cwd. Priority 101 runs after wasi-libc's
 * preopen setup and before ordinary constructors. On any error, stay put. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_proc.h"

__attribute__((constructor(101))) static void __sidecar_initial_cwd(void) {
    char small[256];
    uint32_t len = 0;
    char *buf = small;
    int32_t r = __host_proc_initial_cwd(HP(small), sizeof small - 1, HP(&len));
    if (r != 0) {
        if (len == 0 || len > (1u << 20)) return;
        buf = malloc((size_t)len + 1);
        if (!buf) return;
        uint32_t len2 = 0;
        r = __host_proc_initial_cwd(HP(buf), len, HP(&len2));
        if (r != 0 || len2 > len) {
            free(buf);
            return;
        }
        len = len2;
    } else if (len > sizeof small - 1) {
        return;
    }
    /* Accept the path with or without a terminating NUL. */
    while (len > 0 && buf[len - 1] == '\0') len--;
    buf[len] = '\0';
    if (len > 0 && strlen(buf) == len) chdir(buf);
    if (buf != small) free(buf);
}
