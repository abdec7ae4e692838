/* flockfile, ftrylockfile, funlockfile: wasi-libc declares them (with
 * _REENTRANT) but does not define them. Guests are single-threaded, so the
 * lock is always free. */
#include <stdio.h>

void flockfile(FILE *f) { (void)f; }
int ftrylockfile(FILE *f) {
    (void)f;
    return 0;
}
void funlockfile(FILE *f) { (void)f; }
