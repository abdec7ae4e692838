# libfontenc: font encoding tables for libXfont2. The encodings directory is
# a guest path (the data would come from xfonts-encodings; not yet shipped).
deps=(xorgproto zlib)
configure_flags=(--with-encodingsdir=/usr/share/fonts/X11/encodings)
