/* signal()/raise(), replacing libwasi-emulated-signal's signal.o (whose
 * symbols are all defined here, so that object is never linked).
 * There is no asynchronous delivery into handlers: raise() runs an installed
 * handler synchronously; with SIG_DFL it sends the signal to this process
 * through host_proc.kill so the host applies the default action. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

void __SIG_IGN(int sig) { (void)sig; }

void __SIG_ERR(int sig) {
    (void)sig;
    __builtin_trap();
}

static void (*handlers[_NSIG])(int);

void (*signal(int sig, void (*func)(int)))(int) {
    if (sig <= 0 || sig >= _NSIG || sig == SIGKILL || sig == SIGSTOP) {
        errno = EINVAL;
        return SIG_ERR;
    }
    void (*old)(int) = handlers[sig];
    handlers[sig] = func;
    return old;
}

extern __typeof(signal) bsd_signal __attribute__((weak, alias("signal")));
extern __typeof(signal) __sysv_signal __attribute__((weak, alias("signal")));

int raise(int sig) {
    if (sig < 0 || sig >= _NSIG) {
        errno = EINVAL;
        return -1;
    }
    void (*h)(int) = sig ? handlers[sig] : SIG_DFL;
    if (h == SIG_IGN) return 0;
    if (h != SIG_DFL) {
        h(sig);
        return 0;
    }
    return kill(getpid(), sig);
}
