/* Deterministic CPU-bound workload (prime sieve + FNV-1a/xorshift mixing),
 * ~1-2 s natively at -O2; prints a checksum. Used to measure fuel overhead.
 * Optional argv[1]: number of rounds (default 120). Built a second time with
 * -DWITH_FORK (cpu_bench_fork), which links fork, to measure what the fork
 * instrumentation costs (scripts/bench/fork). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIMIT 4000000

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 120;
    unsigned char *composite = malloc(LIMIT + 1);
    uint32_t *table = malloc(sizeof(uint32_t) * 65536);
    if (!composite || !table) return 2;
    uint64_t h = 1469598103934665603ULL;
    uint64_t x = 88172645463325252ULL;
    for (int r = 0; r < rounds; r++) {
        memset(composite, 0, LIMIT + 1);
        uint64_t count = 0;
        for (uint64_t i = 2; i <= LIMIT; i++) {
            if (composite[i]) continue;
            count++;
            h = (h ^ i) * 1099511628211ULL;
            for (uint64_t j = i * i; j <= LIMIT; j += i) composite[j] = 1;
        }
        for (int k = 0; k < 65536; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            table[k] = (uint32_t)(x >> 11);
        }
        for (int pass = 0; pass < 24; pass++)
            for (int k = 0; k < 65536; k++) {
                uint32_t v = table[(k * 40503u + (uint32_t)pass) & 0xffff];
                h = (h ^ v) * 1099511628211ULL;
                table[k] ^= (uint32_t)(h >> 29);
            }
        h ^= count;
    }
    printf("primes up to %d, %d rounds: checksum %016llx\n", LIMIT, rounds, (unsigned long long)h);
#ifdef WITH_FORK
    if (rounds < 0 && fork() == 0) return 1;
#endif
    free(composite);
    free(table);
    return 0;
}
