/* sigemptyset() and friends over the SDK's sigset_t (bit n-1 = signal n);
 * wasi-libc has none of them. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#define SIGSET_WORD_BITS (8 * sizeof(unsigned long))

static int sig_ok(int sig) { return sig > 0 && sig < _NSIG; }

int sigemptyset(sigset_t *set) {
    memset(set, 0, sizeof *set);
    return 0;
}

int sigfillset(sigset_t *set) {
    memset(set, 0, sizeof *set);
    for (int s = 1; s < _NSIG; s++)
        set->__bits[(s - 1) / SIGSET_WORD_BITS] |= 1UL << ((s - 1) % SIGSET_WORD_BITS);
    return 0;
}

int sigaddset(sigset_t *set, int sig) {
    if (!sig_ok(sig)) {
        errno = EINVAL;
        return -1;
    }
    set->__bits[(sig - 1) / SIGSET_WORD_BITS] |= 1UL << ((sig - 1) % SIGSET_WORD_BITS);
    return 0;
}

int sigdelset(sigset_t *set, int sig) {
    if (!sig_ok(sig)) {
        errno = EINVAL;
        return -1;
    }
    set->__bits[(sig - 1) / SIGSET_WORD_BITS] &= ~(1UL << ((sig - 1) % SIGSET_WORD_BITS));
    return 0;
}

int sigismember(const sigset_t *set, int sig) {
    if (!sig_ok(sig)) {
        errno = EINVAL;
        return -1;
    }
    return !!(set->__bits[(sig - 1) / SIGSET_WORD_BITS] & (1UL << ((sig - 1) % SIGSET_WORD_BITS)));
}
