# libICE: the Inter-Client Exchange library, which libSM (and so Xt) links
# against. Nothing in the sidecar connects to a session manager; only the
# Unix-socket transport is built.
deps=(xorgproto xtrans)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen --without-lint --disable-tcp-transport --disable-ipv6)
