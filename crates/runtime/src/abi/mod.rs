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

/// Runs one host call: its body, then the handlers of any signals that
/// became due (a kernel-call boundary), then its errno return. A call that a
/// signal interrupted under SA_RESTART runs again after the handlers.
pub(crate) fn run(
    c: &mut Caller<'_, GuestCtx>,
    mut body: impl FnMut(&mut Caller<'_, GuestCtx>) -> AbiResult<()>,
) -> wasmtime::Result<i32> {
    loop {
        let r = body(c);
        if crate::guest::has_refund(c.data()) {
            crate::guest::absorb_fuel(c, 0);
        }
        deliver_signals(c)?;
        return match r {
            Err(Fault::Restart) => continue,
            Ok(()) => Ok(0),
            Err(Fault::Errno(e)) => Ok(i32::from(errno::to_wasi(e))),
            Err(Fault::Exit(x)) => Err(x.into()),
        };
    }
}

/// Runs the handler of every caught signal that is due.
fn deliver_signals(c: &mut Caller<'_, GuestCtx>) -> wasmtime::Result<()> {
    while c.data().take_signal_flag() {
        let next = match c.data().call(sidecar_kernel::Syscall::SigNext) {
            Ok(sidecar_kernel::Ret::SigDeliver(n)) => n,
            Err(Fault::Exit(x)) => return Err(x.into()),
            _ => None,
        };
        let Some((sig, restore)) = next else { break };
        // Through the function table: calling an export of a command module
        // would run its constructors again.
        let handler = c.data().trampoline.and_then(|index| {
            let table = c.get_export("__indirect_function_table")?.into_table()?;
            let f = table.get(&mut *c, u64::from(index))?;
            f.as_func()??.typed::<i32, ()>(&*c).ok()
        });
        match handler {
            Some(f) => f.call(&mut *c, sig)?,
            None => tracing::warn!("guest registered no signal trampoline; signal {sig} dropped"),
        }
        if let Err(Fault::Exit(x)) = c
            .data()
            .call(sidecar_kernel::Syscall::SigReturn { mask: restore })
        {
            return Err(x.into());
        }
    }
    Ok(())
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
