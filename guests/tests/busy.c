/* Spins forever on the CPU; prints nothing. Used by the fuel budget test. */
int main(void) {
    volatile unsigned long counter = 0;
    for (;;) counter++;
}
