# libXt: the X Toolkit Intrinsics, under Xaw, xterm and xclock. makestrs is a
# build-machine tool (CC_FOR_BUILD). Resource files are looked up at guest
# paths under /usr/share/X11 (app-defaults).
deps=(xorgproto libx11 libsm libice)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen --without-lint --datadir=/usr/share --with-appdefaultdir=/usr/share/X11/app-defaults
    --disable-malloc0returnsnull ac_cv_lib_c_getpwuid_r=yes)
