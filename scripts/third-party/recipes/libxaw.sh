# libXaw: the Athena widgets (xterm's menus, xclock's Clock widget). Only the
# XPM-capable libXaw7.
deps=(xorgproto libx11 libxext libxt libxmu libxpm)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen --without-lint --disable-xaw6)
