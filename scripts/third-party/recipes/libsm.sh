# libSM: X session management, linked by Xt. Without libuuid (client ids
# come from the host name, pid and time, as upstream's fallback).
deps=(xorgproto xtrans libice)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen --without-lint --without-libuuid --disable-tcp-transport --disable-ipv6)
