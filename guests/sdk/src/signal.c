/* Signals: dispositions live in the kernel (host_proc.sigaction), handler
 * pointers here. The sidecar runs a caught signal's handler at a kernel-call
 * boundary by calling __sidecar_signal_trampoline, so handlers run on the
 * guest's own stack between two calls, as a Linux handler runs between two
 * instructions. Replaces libwasi-emulated-signal's signal.o entirely. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "host_proc.h"
#include "internal.h"

HOST_PROC(sigaction)
int32_t __host_proc_sigaction(int32_t sig, uint32_t disposition, uint32_t flags, uint64_t mask);
HOST_PROC(sigprocmask)
int32_t __host_proc_sigprocmask(int32_t how, uint64_t set, uint32_t old_out);
HOST_PROC(sigpending) int32_t __host_proc_sigpending(uint32_t out);
HOST_PROC(sigignored) int32_t __host_proc_sigignored(uint32_t out);
HOST_PROC(sigsuspend) int32_t __host_proc_sigsuspend(uint64_t mask);
HOST_PROC(pause) int32_t __host_proc_pause(void);
HOST_PROC(set_signal_trampoline) int32_t __host_proc_set_signal_trampoline(uint32_t fn);

static void trampoline(int sig);

void __SIG_IGN(int sig) { (void)sig; }

void __SIG_ERR(int sig) {
    (void)sig;
    __builtin_trap();
}

static struct sigaction actions[_NSIG];

/* The kernel's masks hold signals 1..64, bit n-1 for signal n. */
static uint64_t to_mask(const sigset_t *s) {
    return (uint64_t)s->__bits[0] | ((uint64_t)s->__bits[1] << 32);
}

static void from_mask(uint64_t m, sigset_t *s) {
    memset(s, 0, sizeof *s);
    s->__bits[0] = (unsigned long)(m & 0xffffffffu);
    s->__bits[1] = (unsigned long)(m >> 32);
}

/* Signals ignored when the image started (inherited across posix_spawn and
 * exec) are SIG_IGN in `actions` too: read from the kernel on first use. */
static void load_inherited(void) {
    static int loaded;
    uint64_t m = 0;
    if (loaded) return;
    loaded = 1;
    if (__host_proc_sigignored((uint32_t)(uintptr_t)&m) != 0) return;
    for (int sig = 1; sig < _NSIG && sig <= 64; sig++)
        if (m & ((uint64_t)1 << (sig - 1))) actions[sig].sa_handler = SIG_IGN;
}

int sigaction(int sig, const struct sigaction *restrict act, struct sigaction *restrict old) {
    if (sig <= 0 || sig >= _NSIG) return errno_ret(EINVAL);
    load_inherited();
    if (old) *old = actions[sig];
    if (!act) return 0;
    uint32_t disposition = act->sa_handler == SIG_DFL   ? 0
                           : act->sa_handler == SIG_IGN ? 1
                                                        : 2;
    static int registered;
    if (disposition == 2 && !registered) {
        /* A function pointer is an index into the exported table. */
        __host_proc_set_signal_trampoline((uint32_t)(uintptr_t)&trampoline);
        registered = 1;
    }
    int32_t e = __host_proc_sigaction(sig, disposition, (uint32_t)act->sa_flags, to_mask(&act->sa_mask));
    if (e) return errno_ret(e);
    actions[sig] = *act;
    return 0;
}

void (*signal(int sig, void (*func)(int)))(int) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = func;
    sa.sa_flags = SA_RESTART; /* glibc's BSD semantics */
    if (sigaction(sig, &sa, &old) != 0) return SIG_ERR;
    return old.sa_handler;
}

extern __typeof(signal) bsd_signal __attribute__((weak, alias("signal")));
extern __typeof(signal) __sysv_signal __attribute__((weak, alias("signal")));

/* A raised signal is due when kill() returns, so its handler has run by the
 * time raise() does, as POSIX requires. */
int raise(int sig) { return kill(getpid(), sig); }

int sigprocmask(int how, const sigset_t *restrict set, sigset_t *restrict old) {
    uint64_t o = 0;
    int32_t e;
    if (set) {
        e = __host_proc_sigprocmask(how, to_mask(set), (uint32_t)(uintptr_t)&o);
    } else {
        /* Query only: block nothing. */
        e = __host_proc_sigprocmask(SIG_BLOCK, 0, (uint32_t)(uintptr_t)&o);
    }
    if (e) return errno_ret(e);
    if (old) from_mask(o, old);
    return 0;
}

int pthread_sigmask(int how, const sigset_t *restrict set, sigset_t *restrict old) {
    return sigprocmask(how, set, old) == 0 ? 0 : errno;
}

int sigpending(sigset_t *set) {
    uint64_t m = 0;
    int32_t e = __host_proc_sigpending((uint32_t)(uintptr_t)&m);
    if (e) return errno_ret(e);
    from_mask(m, set);
    return 0;
}

int sigsuspend(const sigset_t *mask) { return errno_ret(__host_proc_sigsuspend(to_mask(mask))); }

/* One kernel call: a handler that ran between reading the mask and
 * suspending would leave the wait with nothing to end it. */
int pause(void) { return errno_ret(__host_proc_pause()); }

/* Called by the sidecar, through the function table, with the kernel's mask
 * for the handler in place. */
static void trampoline(int sig) {
    if (sig <= 0 || sig >= _NSIG) return;
    struct sigaction *a = &actions[sig];
    if (a->sa_flags & SA_SIGINFO) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        info.si_signo = sig;
        a->sa_sigaction(sig, &info, NULL);
    } else if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN) {
        void (*h)(int) = a->sa_handler;
        if (a->sa_flags & SA_RESETHAND) a->sa_handler = SIG_DFL;
        h(sig);
    }
}
