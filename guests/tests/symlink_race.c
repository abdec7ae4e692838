/* Hammers paths under DIR while a host process swaps DIR between a real
 * directory and a symlink that leads out of the VM root (see
 * tests/hardening_fs.rs). Prints how often each operation succeeded and how
 * often a read saw the outside file's contents; every operation may fail
 * while the swap is in flight, but none may act outside the root.
 *
 * usage: symlink_race DIR ITERATIONS */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: symlink_race DIR ITERATIONS\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = atol(argv[2]);
    char victim[256], secret[256], keep[256], made[256];
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    snprintf(secret, sizeof secret, "%s/secret", dir);
    snprintf(keep, sizeof keep, "%s/keep", dir);
    snprintf(made, sizeof made, "%s/made", dir);
    long appends = 0, reads = 0, outside_reads = 0, unlinks = 0, mkdirs = 0;
    for (long i = 0; i < n; i++) {
        int fd = open(victim, O_WRONLY | O_APPEND);
        if (fd >= 0) {
            if (write(fd, "PWN\n", 4) == 4)
                appends++;
            close(fd);
        }
        fd = open(secret, O_RDONLY);
        if (fd >= 0) {
            char buf[64] = {0};
            if (read(fd, buf, sizeof buf - 1) > 0) {
                reads++;
                if (strncmp(buf, "OUTSIDE", 7) == 0)
                    outside_reads++;
            }
            close(fd);
        }
        /* Outside, "keep" exists: an escaped unlink would remove it. */
        fd = open(keep, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0)
            close(fd);
        if (unlink(keep) == 0)
            unlinks++;
        /* Outside, "made" does not exist: an escaped mkdir would make it.
         * Inside it is made once, then EEXIST. */
        if (mkdir(made, 0755) == 0)
            mkdirs++;
    }
    printf("appends %ld\nreads %ld\noutside_reads %ld\nunlinks %ld\nmkdirs %ld\n", appends,
           reads, outside_reads, unlinks, mkdirs);
    return 0;
}
