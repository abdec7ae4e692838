//! wasmtime glue for the sidecar kernel: the guest ABI, guest threads, the
//! kernel service thread, fuel and epochs, and the compiled-module cache.

pub mod abi;
pub mod bridge;
pub mod cache;
mod fork;
pub mod guest;
pub mod limits;
mod memory;
pub mod rpc;
pub mod service;
mod spin;
pub mod vm;

use std::sync::Arc;

use crossbeam_channel::Sender;

pub use bridge::VmHandle;
pub use guest::{Budget, GuestSpec};
pub use limits::Limits;
pub use vm::{
    GuestConfig, ModuleSource, MountConfig, RunningVm, SocketLink, Vm, VmConfig, VmError,
};

/// State every guest thread of a VM shares.
pub struct Shared {
    pub engine: wasmtime::Engine,
    pub cache: cache::ModuleCache,
    pub tx: Sender<rpc::Msg>,
    /// Whether the engine meters fuel (some guest has a finite budget).
    pub fuel: bool,
    /// Guest memory and guest threads of the VM, against its limits.
    pub(crate) usage: Arc<limits::Usage>,
    /// The kernel's namespace: `stat` walks it on the calling guest's
    /// thread, so a deep lookup never holds up the kernel thread.
    pub(crate) vfs: Arc<sidecar_kernel::vfs::Vfs>,
}
