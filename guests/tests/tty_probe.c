/* An interactive probe for terminal attach: a prompt that echoes lines,
 * reports the window size, survives ^C and sleeps on request. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t winch, intr;

static void on_winch(int s) { (void)s; winch++; }
static void on_int(int s) { (void)s; intr++; }

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGWINCH, &sa, NULL);
    sa.sa_handler = on_int;
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, NULL);
    char line[256];
    for (;;) {
        if (winch) {
            printf("[winch]\n");
            winch = 0;
        }
        printf("probe$ ");
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin)) {
            if (errno == EINTR || intr) {
                clearerr(stdin);
                printf("\n[interrupted]\n");
                intr = 0;
                continue;
            }
            return 3;
        }
        line[strcspn(line, "\n")] = 0;
        if (strcmp(line, "exit") == 0) return 0;
        if (strcmp(line, "size") == 0) {
            unsigned short ws[4] = {0};
            ioctl(0, 0x5413, ws);
            printf("rows %u cols %u\n", ws[0], ws[1]);
        } else if (strcmp(line, "sleep") == 0) {
            struct timespec t = {30, 0};
            if (nanosleep(&t, NULL) != 0 && errno == EINTR) printf("[interrupted]\n");
            intr = 0;
        } else {
            printf("echo: %s\n", line);
        }
    }
}
