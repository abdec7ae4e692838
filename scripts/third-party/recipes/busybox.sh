# busybox 1.35.0 (with Debian's security fixes, see
# patches/busybox/debian-security.series): the userland of the shell root
# (scripts/build-shell-root), one binary: defconfig less the applets
# busybox.files/config leaves out, each with its reason.
# busybox.files/sidecar-compat.h (force-included) and include/ declare what
# wasi-libc lacks; compat.c defines what the applets
# link beyond the SDK (ownership, temp files); patches/busybox/0001 lets
# trylink use lld. Applets fork and exec as upstream does (through the sjlj
# driver, see the sjlj recipe); test's error exits use setjmp/longjmp.
# Installs bin/busybox.wasm, share/busybox/busybox.links (the applets'
# install paths) and share/busybox/config.
build_system=custom
deps=(sjlj)

do_build() {
    local frag="$files/config" k v bad=0 dir
    cd "$srcdir"
    make HOSTCC=gcc defconfig >/dev/null
    # The options to set: every option of each drop-dir, then the lines.
    {
        while read -r _ dir; do
            grep -hoE '^config [A-Z0-9_]+' "$dir/Config.in" | sed -E 's/^config (.*)/CONFIG_\1=n/'
        done < <(grep -E '^drop-dir ' "$frag")
        grep -E '^CONFIG_[A-Z0-9_]+=' "$frag"
    } >"$bdir/options"
    while IFS='=' read -r k v; do
        sed -i -e "/^$k=/d" -e "/^# $k is not set/d" .config
        if [[ "$v" == n ]]; then echo "# $k is not set"; else echo "$k=$v"; fi >>.config
    done <"$bdir/options"
    (yes "" || true) | make HOSTCC=gcc oldconfig >/dev/null
    # Every option asked for must have survived oldconfig's dependencies
    # (the last word on an option counts).
    while IFS='=' read -r k v; do
        if [[ "$v" == n ]]; then
            grep -q "^$k=y" .config && { echo "busybox: $k is still set" >&2; bad=1; }
        else
            grep -qx "$k=$v" .config || { echo "busybox: $k=$v did not stick" >&2; bad=1; }
        fi
    done < <(tac "$bdir/options" | awk -F= '!seen[$1]++')
    ((bad == 0))

    # An archive after the SDK's: an SDK definition, once there, wins.
    "$CC" $CFLAGS -Wall -c "$files/compat.c" -o "$bdir/compat.o"
    "$AR" rcs "$bdir/libbbcompat.a" "$bdir/compat.o"
    # LD links each directory's built-in.o (-r); -O0 at the final link keeps
    # clang from running wasm-opt, which would drop the names asyncify-sjlj
    # needs.
    make -j"$jobs" CC="$CC" AR="$AR" LD="clang-16 --target=wasm32-wasi" HOSTCC=gcc \
        SKIP_STRIP=y \
        EXTRA_CFLAGS="-isystem $files/include -include $files/sidecar-compat.h" \
        EXTRA_LDFLAGS="-O0 $bdir/libbbcompat.a -L$tp_sysroot/lib -lsidecar-sjlj" \
        busybox busybox.links
    mkdir -p "$stage$tp_sysroot/bin" "$stage$tp_sysroot/share/busybox"
    "$tp_sysroot/native/bin/asyncify-sjlj" busybox_unstripped "$stage$tp_sysroot/bin/busybox.wasm"
    cp busybox.links "$stage$tp_sysroot/share/busybox/busybox.links"
    # The configuration, for a native build of the same applets and for the
    # test suite (scripts/busybox-testsuite).
    cp .config "$stage$tp_sysroot/share/busybox/config"
}
