# fontconfig: font discovery for Xft clients (xterm, ctwm); the X server does
# not use it. Autotools rather than meson: meson insists on a threads
# dependency (-pthread would turn on wasm shared memory). Run-time paths are
# guest paths; its config files land in the sysroot's rootfs/.
deps=(freetype expat)
configure_flags=(--disable-docs --disable-cache-build --disable-nls --disable-iconv
    --sysconfdir=/etc --localstatedir=/var --with-cache-dir=/var/cache/fontconfig
    --with-default-fonts=/usr/share/fonts --with-add-fonts=no
    --with-baseconfigdir=/etc/fonts --with-templatedir=/usr/share/fontconfig/conf.avail
    --with-xmldir=/usr/share/xml/fontconfig)
# Library only: the fc-* tools and tests would link against symbols the SDK
# does not implement yet (realpath, chmod, ...).
make_flags=(bin_PROGRAMS= noinst_PROGRAMS=)
