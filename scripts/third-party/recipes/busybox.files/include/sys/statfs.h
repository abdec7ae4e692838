/* sidecar: empty <sys/statfs.h> (wasi-libc has none); libbb.h includes it,
 * no applet built here uses it. */
