/* sigemptyset() and friends over the SDK's sigset_t (bit n-1 = signal n);
 * wasi-libc has none of them. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "internal.h"

#define SIGSET_WORD_BITS (8 * sizeof(unsigned long))
/* The word of `set` that holds signal `sig`, and its bit there. */
#define SIG_WORD(set, sig) ((set)->__bits[((sig) - 1) / SIGSET_WORD_BITS])
#define SIG_BIT(sig) (1UL << (((sig) - 1) % SIGSET_WORD_BITS))

static int sig_ok(int sig) { return sig > 0 && sig < _NSIG; }

int sigemptyset(sigset_t *set) {
    memset(set, 0, sizeof *set);
    return 0;
}

int sigfillset(sigset_t *set) {
    memset(set, 0, sizeof *set);
    for (int s = 1; s < _NSIG; s++) SIG_WORD(set, s) |= SIG_BIT(s);
    return 0;
}

int sigaddset(sigset_t *set, int sig) {
    if (!sig_ok(sig)) return errno_ret(EINVAL);
    SIG_WORD(set, sig) |= SIG_BIT(sig);
    return 0;
}

int sigdelset(sigset_t *set, int sig) {
    if (!sig_ok(sig)) return errno_ret(EINVAL);
    SIG_WORD(set, sig) &= ~SIG_BIT(sig);
    return 0;
}

int sigismember(const sigset_t *set, int sig) {
    if (!sig_ok(sig)) return errno_ret(EINVAL);
    return !!(SIG_WORD(set, sig) & SIG_BIT(sig));
}

int sigisemptyset(const sigset_t *set) {
    static const sigset_t empty;
    return memcmp(set, &empty, sizeof empty) == 0;
}

int sigandset(sigset_t *dst, const sigset_t *a, const sigset_t *b) {
    const unsigned char *x = (const void *)a, *y = (const void *)b;
    unsigned char *d = (void *)dst;
    for (size_t i = 0; i < sizeof *dst; i++) d[i] = x[i] & y[i];
    return 0;
}

int sigorset(sigset_t *dst, const sigset_t *a, const sigset_t *b) {
    const unsigned char *x = (const void *)a, *y = (const void *)b;
    unsigned char *d = (void *)dst;
    for (size_t i = 0; i < sizeof *dst; i++) d[i] = x[i] | y[i];
    return 0;
}
