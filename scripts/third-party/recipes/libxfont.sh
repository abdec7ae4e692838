# libXfont2: the X server's font library (PCF/BDF bitmaps and FreeType).
# No font-server client (--disable-fc: it needs TCP sockets and is rarely
# used) and no compressed fonts besides gzip.
deps=(xorgproto freetype libfontenc xtrans zlib)
configure_flags=(--disable-fc --without-bzip2 --disable-snfformat --disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen)
# Its test tools (lsfontdir, ...) need err()/realpath(), which wasi-libc lacks.
make_flags=(noinst_PROGRAMS=)
