# libxkbfile: XKB keymap file routines; the X server links it.
# ac_cv_func_getc_unlocked=no: it pairs getc_unlocked with flockfile, which
# wasi-libc hides in its single-threaded build; plain getc is equivalent here.
deps=(xorgproto libx11)
configure_flags=(ac_cv_func_getc_unlocked=no)
