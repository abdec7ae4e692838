# xorg-server 21.1.7 (with Debian's security fixes, see
# patches/xorg-server/debian-security.series): only Xvfb. Every DDX but vfb,
# GL, DRI, udev/systemd/hal, SELinux, secure-rpc and XDMCP are off; MIT-SHM is
# off (no SysV shared memory); no input thread (no threads). The server
# listens on xtrans's "local" transport: on Linux that is the AF_UNIX
# socket (path and abstract name), and "unix" is only its alias. Run-time paths
# are guest paths: keymaps under /usr/share/X11/xkb (the default keymap is
# precompiled at build time into xkb/compiled/, see xvfb-data.sh and
# patches/xorg-server/0003-*), fonts under /usr/share/fonts/X11.
# Only the Xvfb target is built (the tests need fork). If the final link
# fails, every undefined symbol is listed (they are what the SDK lacks).
deps=(xorgproto xtrans pthread-stubs pixman libxfont libxkbfile libxau libmd xvfb-data)
build_system=meson
meson_flags=(
    -Dxvfb=true -Dxorg=false -Dxephyr=false -Dxnest=false -Dxwin=false -Dxquartz=false
    -Dglamor=false -Dglx=false -Ddri1=false -Ddri2=false -Ddri3=false -Ddrm=false
    -Dudev=false -Dudev_kms=false -Dsystemd_logind=false -Dhal=false -Dxselinux=false
    -Dsecure-rpc=false -Dxdmcp=false -Dxdm-auth-1=false -Dipv6=false -Dinput_thread=false
    -Dlisten_tcp=false -Dlisten_unix=true -Dlisten_local=true -Dmitshm=false
    -Dxv=false -Dxvmc=false -Ddga=false -Dlinux_apm=false -Dlinux_acpi=false -Dagp=false
    -Dvgahw=false -Dint10=false -Dpciaccess=false -Dlibunwind=false -Ddtrace=false
    -Dsuid_wrapper=false -Dxf86bigfont=false -Dxcsecurity=false
    -Ddocs=false -Ddevel-docs=false -Ddocs-pdf=false -Dsha1=libmd
    -Dxkb_dir=/usr/share/X11/xkb -Dxkb_output_dir=/usr/share/X11/xkb/compiled/
    -Dxkb_bin_dir=/usr/bin
    -Ddefault_font_path=/usr/share/fonts/X11/misc,built-ins
    -Dlog_dir=/tmp
)

do_compile() {
    if ninja -j"$jobs" hw/vfb/Xvfb 2>&1 | tee "$bdir/ninja.log"; then
        return 0
    fi
    grep -q 'undefined symbol' "$bdir/ninja.log" || return 1
    # Relink without an error limit to list every missing symbol.
    eval "$(ninja -t commands hw/vfb/Xvfb | tail -n 1) -Wl,--error-limit=0" >"$bdir/link.log" 2>&1 || true
    local syms
    syms="$(grep -oE 'undefined symbol: [^ ]+' "$bdir/link.log" | cut -d' ' -f3 | LC_ALL=C sort -u)"
    echo "Xvfb: final link failed; $(wc -l <<<"$syms") undefined symbols:"
    echo "$syms" | tr '\n' ' ' | fold -s -w 76 | sed 's/^/    /'
    echo
    return 1
}

do_install() {
    mkdir -p "$stage$tp_sysroot/bin"
    cp hw/vfb/Xvfb "$stage$tp_sysroot/bin/Xvfb.wasm"
}
