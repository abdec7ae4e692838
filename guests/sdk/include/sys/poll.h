/* sidecar SDK: <sys/poll.h> = <poll.h>, without wasi-libc's #warning (glibc
 * accepts this spelling silently, and Linux code uses it). */
#include <poll.h>
