/* Private to the shim: the `host_proc` import module. The imports, records
 * and constants (HOST_PROC, HP, struct sidecar_spawn_action, LX_O_*, LX_F_*,
 * SC_SPAWN_ACT_*, SC_ATTR_*, ...) are generated from crates/abi into
 * sidecar_abi.h (see SPEC.md, "Guest ABI"); this file adds the shim's own
 * helpers around them. */
#ifndef SIDECAR_HOST_PROC_H
#define SIDECAR_HOST_PROC_H

#include "sidecar_abi.h"

/* fd.c: wasi-libc's O_* values <-> the Linux values the ABI uses. */
uint32_t __sidecar_oflags_to_linux(int flags, int *bad);
int __sidecar_oflags_from_linux(uint32_t lx);

#endif
