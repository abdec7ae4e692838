# libXpm: X pixmaps, under Xaw (and ctwm's icons). The sxpm/cxpm tools are
# not built; no compressed-file support (it would fork gzip).
deps=(xorgproto libx11 libxext)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen --without-lint --disable-open-zfile --disable-stat-zfile)
make_flags=(SUBDIRS="include src")
