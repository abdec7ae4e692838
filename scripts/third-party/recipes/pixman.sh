# pixman: the X server's software rasterizer. No SIMD backends (wasm SIMD
# would need its own code), no OpenMP, no test programs. Its per-thread
# fast-path cache uses __thread, which clang lowers to a plain global when
# wasm threads are off.
build_system=meson
meson_flags=(-Dopenmp=disabled -Dloongson-mmi=disabled -Dmmx=disabled -Dsse2=disabled
    -Dssse3=disabled -Dvmx=disabled -Darm-simd=disabled -Dneon=disabled -Da64-neon=disabled
    -Diwmmxt=disabled -Dmips-dspr2=disabled -Dgnu-inline-asm=disabled -Dgtk=disabled
    -Dlibpng=disabled -Dtests=disabled -Dtimers=false)
