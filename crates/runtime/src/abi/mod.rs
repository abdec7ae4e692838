//! The guest ABI: `wasi_snapshot_preview1` and the sidecar's own import
//! modules, all served by the kernel.

pub mod errno;
pub mod mem;
mod net;
mod proc;
mod wasi;

use sidecar_kernel::Errno;
use wasmtime::{Caller, Linker};

use crate::guest::{AbiResult, Fault, GuestCtx};
use mem::GuestMem;

/// Whether the sidecar provides import `module.name`.
pub fn is_defined(module: &str, name: &str) -> bool {
    match module {
        "wasi_snapshot_preview1" => wasi::FUNCS.contains(&name),
        "host_proc" => proc::FUNCS.contains(&name),
        "host_net" => net::FUNCS.contains(&name),
        _ => false,
    }
}

/// Defines every import on `linker`.
pub fn add_to_linker(linker: &mut Linker<GuestCtx>) -> wasmtime::Result<()> {
    wasi::add(linker)?;
    proc::add(linker)?;
    net::add(linker)?;
    Ok(())
}

/// Splits a caller into its memory and its context.
pub(crate) fn split<'a>(
    caller: &'a mut Caller<'_, GuestCtx>,
) -> AbiResult<(GuestMem<'a>, &'a mut GuestCtx)> {
    let memory = caller.data().memory.ok_or(Fault::Errno(Errno::EFAULT))?;
    let (data, ctx) = memory.data_and_store_mut(caller);
    Ok((GuestMem::new(data), ctx))
}

/// Turns a host call's result into its errno return, or unwinds the guest.
pub(crate) fn finish(r: AbiResult<()>) -> wasmtime::Result<i32> {
    match r {
        Ok(()) => Ok(0),
        Err(Fault::Errno(e)) => Ok(i32::from(errno::to_wasi(e))),
        Err(Fault::Exit(x)) => Err(x.into()),
    }
}

/// Unpacks the one `Ret` variant a call can produce.
macro_rules! expect_ret {
    ($ret:expr, $pat:pat => $val:expr) => {
        match $ret {
            $pat => $val,
            other => {
                tracing::error!("unexpected kernel reply {other:?}");
                return Err($crate::guest::Fault::Errno(sidecar_kernel::Errno::EIO));
            }
        }
    };
}
pub(crate) use expect_ret;
