# setjmp/longjmp for guests, which wasi-libc 2022-05 lacks and LLVM 16 can
# only lower to exception-handling opcodes that wasmtime 48 does not run.
# No upstream sources: sjlj.files/sjlj.c (the runtime, installed as
# lib/libsidecar-sjlj.a) and sjlj.files/asyncify-sjlj (the post-link step,
# Binaryen's Asyncify plus glue, installed as native/bin/asyncify-sjlj).
# A guest links -lsidecar-sjlj at -O0 (so that clang does not run wasm-opt,
# which drops the name section) and runs asyncify-sjlj on the result; see
# sjlj.c for how it works and its limits.
build_system=none
version=1

do_build() {
    mkdir -p "$stage$tp_sysroot/lib" "$stage$tp_sysroot/native/bin"
    "$CC" -O2 -Wall -Wextra -c "$files/sjlj.c" -o "$bdir/sjlj.o"
    "$AR" rcs "$stage$tp_sysroot/lib/libsidecar-sjlj.a" "$bdir/sjlj.o"
    install -m 755 "$files/asyncify-sjlj" "$stage$tp_sysroot/native/bin/asyncify-sjlj"
}
