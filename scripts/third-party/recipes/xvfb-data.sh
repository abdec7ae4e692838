# Run-time data for Xvfb and X clients, installed at guest paths (the
# sysroot's rootfs/): XKB data from xkb-data with the default keymap
# precompiled by the build machine's xkbcomp (x11-xkb-utils), the core bitmap
# fonts of xfonts-base with their fonts.dir/fonts.alias (mkfontdir from the
# host's xfonts-utils), and DejaVu TrueType fonts.
build_system=none
src_pkg=xvfb-data
version=1
debs=(xkb-data x11-xkb-utils xfonts-base fonts-dejavu-core)

do_build() {
    local x="$bdir/deb" xkb="$stage/usr/share/X11/xkb" misc="$stage/usr/share/fonts/X11/misc"
    local d
    for d in xkb-data x11-xkb-utils xfonts-base fonts-dejavu-core; do
        dpkg -x "$(deb_archive "$d")" "$x"
    done

    mkdir -p "$xkb/compiled"
    cp -a "$x/usr/share/X11/xkb/." "$xkb/"
    # xkbcomp from the .deb needs only libxkbfile1 and libX11 from the host.
    "$x/usr/bin/xkbcomp" -w 1 -R"$x/usr/share/X11/xkb" -xkm \
        "$files/sidecar-default.xkb" "$xkb/compiled/sidecar-default.xkm"

    mkdir -p "$misc"
    cp -a "$x/usr/share/fonts/X11/misc/." "$misc/"
    mkfontdir "$misc"
    cat "$x"/etc/X11/fonts/misc/*.alias >"$misc/fonts.alias"

    mkdir -p "$stage/usr/share/fonts/truetype"
    cp -a "$x/usr/share/fonts/truetype/dejavu" "$stage/usr/share/fonts/truetype/"
}
