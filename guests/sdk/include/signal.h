/* sidecar SDK: <signal.h> = wasi-libc's emulated-signal header (Linux signal
 * numbers) plus kill(), killpg() and the sigset_t helpers. signal() and
 * raise() are replaced by libsidecar.a: raise() runs an installed handler,
 * otherwise it delivers the signal to this process via host_proc.kill. */
#ifndef __SIDECAR_SIGNAL_H
#define __SIDECAR_SIGNAL_H

#include_next <signal.h>

#ifdef _WASI_EMULATED_SIGNAL
#define __NEED_sigset_t
#define __NEED_pid_t
#include <bits/alltypes.h>

#ifdef __cplusplus
extern "C" {
#endif

int kill(pid_t, int);
int killpg(pid_t, int);
int sigemptyset(sigset_t *);
int sigfillset(sigset_t *);
int sigaddset(sigset_t *, int);
int sigdelset(sigset_t *, int);
int sigismember(const sigset_t *, int);

#ifdef __cplusplus
}
#endif
#endif

#endif
