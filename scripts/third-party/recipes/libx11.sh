# libX11. Built with XTHREADS on top of pthread-stubs (single-threaded
# locks): libX11 1.8.4 does not build with --disable-xthreads (xcb_io.c uses
# _Xglobal_lock, XlibInt.c includes <sys/ioctl.h> only under XTHREADS). No
# loadable i18n modules (no dlopen). Only the Unix-socket transport: the
# sidecar kernel serves AF_UNIX only. Run-time data (locale tables,
# XErrorDB) is looked up at guest paths under /usr/share/X11 and installed
# into the sysroot's rootfs/. makekeys is a build-machine tool (CC_FOR_BUILD).
# ac_cv_lib_c_getpwuid_r=yes: the SDK's <pwd.h> declares getpwuid_r (the
# shim does not implement it yet); without it Xos_r.h falls back to an SVR4
# struct passwd copy that does not compile.
deps=(xorgproto xtrans pthread-stubs libxcb)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc
    --disable-loadable-i18n --disable-loadable-xcursor --disable-tcp-transport --disable-ipv6
    --datadir=/usr/share ac_cv_lib_c_getpwuid_r=yes)
