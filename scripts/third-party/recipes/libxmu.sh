# libXmu: miscellaneous Xt utilities (ctwm, xterm, xclock, Xaw).
deps=(xorgproto libx11 libxext libxt)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen --without-lint --disable-tcp-transport --disable-ipv6)
