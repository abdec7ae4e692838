/* Waits for SIGTERM and shuts down cleanly (host stop-signal forwarding).
 * Race-free: SIGTERM stays blocked except inside sigsuspend. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t stop;
static void h(int s) { (void)s; stop = 1; }
int main(void) {
    sigset_t term, none;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &term, NULL);
    signal(SIGTERM, h);
    printf("ready\n");
    fflush(stdout);
    while (!stop) sigsuspend(&none);
    printf("clean shutdown\n");
    return 0;
}
