/* Private to the shim: the `host_net` import module. The imports, records
 * (struct sidecar_recv_result, ...) and constants are generated from
 * crates/abi into sidecar_abi.h (see SPEC.md, "Guest ABI"). Constants,
 * struct pollfd and socket addresses are Linux's, which the SDK's public
 * headers already use, so values pass through unchanged. */
#ifndef SIDECAR_HOST_NET_H
#define SIDECAR_HOST_NET_H

#include "sidecar_abi.h"

#endif
