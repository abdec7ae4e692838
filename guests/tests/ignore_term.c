/* Ignores SIGTERM (as a stuck or careless server might) and never exits:
 * the sidecar must still end the VM, by SIGKILL after its stop_timeout.
 * Usage: ignore_term [spin]   (spin: compute instead of sleeping) */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    signal(SIGTERM, SIG_IGN);
    printf("ready\n");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "spin") == 0) {
        volatile unsigned long counter = 0;
        for (;;) counter++;
    }
    for (;;) sleep(1000);
}
