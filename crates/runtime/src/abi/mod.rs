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

/// Whether the sidecar provides import `module.name`: the ABI crate's list,
/// which `add_to_linker` defines in full (see the tests below).
pub fn is_defined(module: &str, name: &str) -> bool {
    sidecar_abi::imports::find(module, name).is_some()
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
            Some(f) => {
                let depth = &c.data().in_handler;
                depth.set(depth.get() + 1);
                let r = f.call(&mut *c, sig);
                let depth = &c.data().in_handler;
                depth.set(depth.get() - 1);
                r?
            }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use wasmtime::{Engine, Module};

    use super::*;

    /// The imports the linker serves with the ABI crate's signature: each
    /// one is instantiated alone from a module importing it as the crate
    /// declares it, so a missing or mistyped definition fails.
    fn served(linker: &Linker<GuestCtx>, engine: &Engine) -> (BTreeSet<String>, Vec<String>) {
        let (mut ok, mut problems) = (BTreeSet::new(), Vec::new());
        for f in sidecar_abi::imports::all() {
            let (module, name) = (f.module.name(), f.name);
            let wat = format!(
                "(module (import \"{module}\" \"{name}\" (func {})))",
                f.wat_type()
            );
            let m = Module::new(engine, &wat).unwrap();
            match linker.instantiate_pre(&m) {
                Ok(_) => {
                    ok.insert(format!("{module}.{name}"));
                }
                Err(e) => problems.push(format!("{module}.{name} {}: {e:#}", f.wat_type())),
            }
            if !is_defined(module, name) {
                problems.push(format!("{module}.{name}: is_defined says no"));
            }
        }
        (ok, problems)
    }

    /// The runtime defines every import of the ABI crate, with its wasm
    /// signature; it can define nothing else, since `add_to_linker` takes
    /// every name from the crate's enums.
    #[test]
    fn linker_serves_exactly_the_abi_imports() {
        let engine = Engine::default();
        let mut linker = Linker::<GuestCtx>::new(&engine);
        add_to_linker(&mut linker).unwrap();
        let (ok, problems) = served(&linker, &engine);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert_eq!(ok.len(), sidecar_abi::imports::all().count());
        assert!(is_defined("host_proc", "fork"));
        assert!(!is_defined("host_proc", "vfork"));
        assert!(!is_defined("env", "spawn"));
    }

    /// The generated header the SDK compiles against, SPEC.md's ABI tables
    /// and the imports the linker serves name the same `host_*` functions.
    #[test]
    fn header_spec_and_linker_agree() {
        let root = sidecar_abi::repo_root();
        let header = std::fs::read_to_string(root.join(sidecar_abi::HEADER_PATH)).unwrap();
        let spec = std::fs::read_to_string(root.join("SPEC.md")).unwrap();
        let mut in_header = BTreeSet::new();
        for line in header.lines() {
            for (mac, module) in [("HOST_PROC(", "host_proc"), ("HOST_NET(", "host_net")] {
                if let Some(rest) = line.strip_prefix(mac) {
                    let name = rest.trim_end_matches(')');
                    if name != "name" {
                        in_header.insert(format!("{module}.{name}"));
                    }
                }
            }
        }
        let engine = Engine::default();
        let mut linker = Linker::<GuestCtx>::new(&engine);
        add_to_linker(&mut linker).unwrap();
        let (served, problems) = served(&linker, &engine);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let served_host: BTreeSet<String> = served
            .into_iter()
            .filter(|n| n.starts_with("host_"))
            .collect();
        assert_eq!(
            in_header,
            served_host,
            "{} declares other host_* imports than the runtime serves; regenerate it \
             (cargo run -p sidecar-abi --bin gen-header -- --write)",
            sidecar_abi::HEADER_PATH
        );
        let spec_problems = sidecar_abi::spec::check(&spec);
        assert!(
            spec_problems.is_empty(),
            "SPEC.md disagrees with the ABI the runtime serves:\n{}",
            spec_problems.join("\n")
        );
    }
}
