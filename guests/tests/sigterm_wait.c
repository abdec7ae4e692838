/* Waits for SIGTERM and shuts down cleanly (host stop-signal forwarding). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t stop;
static void h(int s) { (void)s; stop = 1; }
int main(void) {
    signal(SIGTERM, h);
    printf("ready\n"); fflush(stdout);
    while (!stop) pause();
    printf("clean shutdown\n");
    return 0;
}
