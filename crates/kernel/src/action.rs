//! What the kernel asks of the runtime. Kernel operations never reach
//! outside the kernel; they queue [`Action`]s, which the runtime takes after
//! each call. Kernel objects that need something done (bridges) return
//! actions to the kernel instead of holding it.

use crate::process::{Pid, WaitStatus};

/// Names one bridge between a guest socket or terminal and the host.
pub type BridgeId = u64;

/// Things the runtime must do after a call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Unwind guest `pid` (a parked call of it completes with "killed").
    Terminate { pid: Pid, sig: i32 },
    /// A process started by the VM has exited and was reaped.
    Exited { pid: Pid, status: WaitStatus },
    /// Host stdin data was all handed to the guest pipe; send more.
    StdinCredit,
    /// A caught signal became deliverable to `pid`: a parked call of it must
    /// end (EINTR) or restart so that the handler can run.
    Interrupt { pid: Pid },
    /// `pid` was stopped: running wasm must reach a stop point.
    Stop { pid: Pid },
    /// Guest bytes for a bridge's host side; no more until acknowledged.
    BridgeData { id: BridgeId, data: Vec<u8> },
    /// The guest will send no more on this bridge.
    BridgeEof { id: BridgeId },
    /// A bridge has moved `consumed` host bytes in all into the guest
    /// socket; the host may have that many plus its window in flight.
    BridgeCredit { id: BridgeId, consumed: u64 },
    /// A guest connected to a `connect-out` path: connect bridge `id` to the
    /// host socket `host`.
    BridgeOpen { id: BridgeId, host: String },
    /// A socket bound to `path` (as bound, made absolute) now listens:
    /// guests the VM starts `after` it may start.
    Listening { path: String },
}
