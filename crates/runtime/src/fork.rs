//! `fork` over Binaryen's Asyncify.
//!
//! `sidecar-cc` runs `wasm-opt --asyncify` on a program that links `fork`,
//! with `host_proc.fork` as the only import that may unwind, so only the
//! functions on a call path to it (indirect calls included) are
//! instrumented. A fork then goes:
//!
//! 1. The import asks the kernel for the child process (`Syscall::Fork`;
//!    a failure returns at once) and starts an unwind into the guest's
//!    Asyncify buffer: every frame saves its locals there and returns.
//! 2. `_start` returns to the guest's thread ([`crate::guest`]), which sees
//!    [`ForkState::Unwound`]: it stops the unwind, instantiates the module
//!    again for the child, copies the parent's memory and mutable globals
//!    (`__stack_pointer`) into it, and starts both rewinding.
//! 3. Each calls `_start` again, which rewinds to the import; the import
//!    stops the rewind and returns the child's pid in the parent, 0 in the
//!    child. The child runs on its own thread with its own `Store`.
//!
//! The memory is shared copy-on-write (memory.rs); see SPEC ("fork") for
//! its cost.

use sidecar_kernel::{Errno, Pid, Syscall};
use wasmtime::{
    Caller, Extern, ExternType, Instance, InstancePre, Mutability, Store, TypedFunc, Val,
};

use crate::abi::{run, split};
use crate::guest::{self, AbiResult, Budget, GuestCtx, GuestSpec, Image};
use crate::rpc::GuestLink;

/// Where a fork is, between the import's two returns.
pub(crate) enum ForkState {
    /// The parent's stack is unwinding out of `_start`.
    Unwound(Pending),
    /// Rewinding into the import, which will return this.
    Rewinding(Result<Pid, Errno>),
}

/// A child the kernel has made, waiting for its memory.
pub(crate) struct Pending {
    data: u32,
    link: GuestLink,
    budget: Budget,
}

/// The functions `wasm-opt --asyncify` exports.
struct Asyncify {
    start_unwind: TypedFunc<u32, ()>,
    stop_unwind: TypedFunc<(), ()>,
    start_rewind: TypedFunc<u32, ()>,
    stop_rewind: TypedFunc<(), ()>,
}

const START_UNWIND: &str = "asyncify_start_unwind";
const STOP_UNWIND: &str = "asyncify_stop_unwind";
const START_REWIND: &str = "asyncify_start_rewind";
const STOP_REWIND: &str = "asyncify_stop_rewind";
/// The shadow stack pointer, which unwinding leaves as it was at the
/// fork; `sidecar-cc` exports it so that the child can have it too.
const STACK_POINTER: &str = "__stack_pointer";

impl Asyncify {
    /// The calling instance's, or `None` if it was not instrumented.
    fn of_caller(c: &mut Caller<'_, GuestCtx>) -> Option<Asyncify> {
        fn get<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
            c: &mut Caller<'_, GuestCtx>,
            name: &str,
        ) -> Option<TypedFunc<P, R>> {
            c.get_export(name)?.into_func()?.typed(&*c).ok()
        }
        let has_sp = matches!(c.get_export(STACK_POINTER), Some(Extern::Global(_)));
        Some(Asyncify {
            start_unwind: get(c, START_UNWIND)?,
            stop_unwind: get(c, STOP_UNWIND)?,
            start_rewind: get(c, START_REWIND)?,
            stop_rewind: get(c, STOP_REWIND)?,
        })
        .filter(|_| has_sp)
    }

    fn of_instance(store: &mut Store<GuestCtx>, i: Instance) -> wasmtime::Result<Asyncify> {
        Ok(Asyncify {
            start_unwind: i.get_typed_func(&mut *store, START_UNWIND)?,
            stop_unwind: i.get_typed_func(&mut *store, STOP_UNWIND)?,
            start_rewind: i.get_typed_func(&mut *store, START_REWIND)?,
            stop_rewind: i.get_typed_func(&mut *store, STOP_REWIND)?,
        })
    }
}

/// `host_proc.fork`: called once to unwind the parent, then once in each
/// process as it rewinds.
pub(crate) fn fork(mut c: Caller<'_, GuestCtx>, data: u32, out: u32) -> wasmtime::Result<i32> {
    if let Some(ForkState::Rewinding(result)) = c.data_mut().fork.take() {
        let a = Asyncify::of_caller(&mut c).expect("only an instrumented module rewinds");
        a.stop_rewind.call(&mut c, ())?;
        return run(&mut c, |c| {
            let pid = result?;
            let (mut m, _) = split(c)?;
            m.write_u32(out, pid as u32)?;
            Ok(())
        });
    }
    let asyncify = Asyncify::of_caller(&mut c);
    let mut begun = None;
    let r = run(&mut c, |c| {
        begun = Some(begin(c, asyncify.is_some(), data, out)?);
        Ok(())
    })?;
    match (begun, asyncify) {
        (Some(pending), Some(a)) if r == 0 => {
            c.data_mut().fork = Some(ForkState::Unwound(pending));
            // The return value is lost: the caller is unwinding.
            a.start_unwind.call(&mut c, data)?;
            Ok(0)
        }
        _ => Ok(r),
    }
}

/// Checks that the caller can fork and makes the child in the kernel.
fn begin(
    c: &mut Caller<'_, GuestCtx>,
    instrumented: bool,
    data: u32,
    out: u32,
) -> AbiResult<Pending> {
    let name = &c.data().spec.name;
    if !instrumented {
        tracing::warn!(
            "{name}: fork needs a module built by sidecar-cc (Asyncify-instrumented for host_proc.fork); ENOSYS"
        );
        return Err(Errno::ENOSYS.into());
    }
    if c.data().in_handler.get() > 0 {
        tracing::warn!("{name}: fork in a signal handler is not supported; ENOSYS");
        return Err(Errno::ENOSYS.into());
    }
    {
        let (m, _) = split(c)?;
        m.slice(out, 4)?;
        m.slice(data, 8)?;
    }
    let budget = guest::take_fuel_share(c);
    match c.data().spawn_call(Syscall::Fork) {
        Ok(link) => Ok(Pending { data, link, budget }),
        Err(e) => {
            if let Budget::Fuel(share) = budget {
                guest::absorb_fuel(c, share);
            }
            Err(e)
        }
    }
}

/// On the parent's thread, after the unwind: makes the child and starts
/// both rewinding into `fork`.
pub(crate) fn complete(
    store: &mut Store<GuestCtx>,
    instance: Instance,
    pre: &InstancePre<GuestCtx>,
    p: Pending,
) -> wasmtime::Result<()> {
    let a = Asyncify::of_instance(store, instance)?;
    a.stop_unwind.call(&mut *store, ())?;
    let (data, pid, budget) = (p.data, p.link.pid, p.budget);
    let globals = mutable_globals(pre, |name| {
        Some(instance.get_global(&mut *store, name)?.get(&mut *store))
    });
    let memory = instance
        .get_memory(&mut *store, "memory")
        .map(|m| m.data(&*store));
    let result = match memory {
        Some(memory) => {
            let parent = Parent {
                ctx: store.data(),
                memory,
                globals,
            };
            make_child(parent, pre, p.link, budget, ChildStart::Rewind(data)).map(|()| pid)
        }
        None => Err(Errno::ENOEXEC),
    };
    if let (Err(_), Budget::Fuel(share)) = (&result, budget) {
        if store.data().shared.fuel {
            let left = store.get_fuel().unwrap_or(0);
            let _ = store.set_fuel(left.saturating_add(share));
        }
    }
    store.data_mut().fork = Some(ForkState::Rewinding(result));
    a.start_rewind.call(&mut *store, data)
}

/// `host_proc.fork_here`: a fork for a program that unwinds its stack by
/// itself (the sjlj recipe's driver, below `main`): the child is a copy of
/// the caller as it is now, and starts by calling function `entry` of the
/// table, which rewinds it. The caller gets the child's pid at once.
pub(crate) fn fork_here(
    mut c: Caller<'_, GuestCtx>,
    entry: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let name = &c.data().spec.name;
        if c.data().in_handler.get() > 0 {
            tracing::warn!("{name}: fork in a signal handler is not supported; ENOSYS");
            return Err(Errno::ENOSYS.into());
        }
        let Some(pre) = c.data().pre.clone() else {
            return Err(Errno::ENOSYS.into());
        };
        split(c)?.0.slice(out, 4)?;
        let entry_ok = c
            .get_export("__indirect_function_table")
            .and_then(Extern::into_table)
            .and_then(|t| t.get(&mut *c, u64::from(entry)))
            .and_then(|f| f.as_func().flatten().copied())
            .is_some_and(|f| f.typed::<(), ()>(&*c).is_ok());
        if !entry_ok {
            return Err(Errno::EINVAL.into());
        }
        let budget = guest::take_fuel_share(c);
        let give_back = |c: &mut Caller<'_, GuestCtx>| {
            if let Budget::Fuel(share) = budget {
                guest::absorb_fuel(c, share);
            }
        };
        let link = match c.data().spawn_call(Syscall::Fork) {
            Ok(link) => link,
            Err(e) => {
                give_back(c);
                return Err(e);
            }
        };
        let pid = link.pid;
        let globals = mutable_globals(&pre, |name| {
            Some(c.get_export(name)?.into_global()?.get(&mut *c))
        });
        let memory = c.get_export("memory").and_then(Extern::into_memory);
        let made = match memory {
            Some(memory) => {
                let parent = Parent {
                    ctx: c.data(),
                    memory: memory.data(&*c),
                    globals,
                };
                make_child(parent, &pre, link, budget, ChildStart::Entry(entry))
            }
            None => Err(Errno::ENOEXEC),
        };
        if let Err(e) = made {
            give_back(c);
            return Err(e.into());
        }
        split(c)?.0.write_u32(out, pid as u32)?;
        Ok(())
    })
}

/// How a forked child starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ChildStart {
    /// `_start`, rewinding into `fork` with the Asyncify data at this
    /// address.
    Rewind(u32),
    /// The `() -> ()` function at this index of the function table.
    Entry(u32),
}

/// What a child copies of its parent.
struct Parent<'a> {
    ctx: &'a GuestCtx,
    memory: &'a [u8],
    globals: Vec<(String, Val)>,
}

/// The module's exported mutable globals (`__stack_pointer`; Asyncify's
/// own are not exported) and their values, read by `get`.
fn mutable_globals(
    pre: &InstancePre<GuestCtx>,
    mut get: impl FnMut(&str) -> Option<Val>,
) -> Vec<(String, Val)> {
    pre.module()
        .exports()
        .filter(|e| matches!(e.ty(), ExternType::Global(g) if g.mutability() == Mutability::Var))
        .filter_map(|e| Some((e.name().to_owned(), get(e.name())?)))
        .collect()
}

/// Instantiates the child, gives it the parent's memory and mutable
/// globals, and starts its thread.
fn make_child(
    parent: Parent<'_>,
    pre: &InstancePre<GuestCtx>,
    link: GuestLink,
    budget: Budget,
    start: ChildStart,
) -> Result<(), Errno> {
    let shared = parent.ctx.shared.clone();
    let pid = link.pid;
    let Some(slot) = shared.usage.thread() else {
        let what = "the VM's guest threads are at limits.processes";
        return Err(guest::abandon(&shared, pid, true, Errno::EAGAIN, what.into()).errno);
    };
    let spec = GuestSpec {
        budget,
        ..parent.ctx.spec.clone()
    };
    let mut ctx = GuestCtx::new(
        &shared,
        spec,
        link,
        parent.ctx.alive.clone(),
        Some(parent.ctx.refund_handle()),
    );
    ctx.trampoline = parent.ctx.trampoline;
    if let ChildStart::Rewind(_) = start {
        ctx.fork = Some(ForkState::Rewinding(Ok(0)));
    }
    let fuel = match budget {
        Budget::Fuel(n) => n,
        Budget::Unlimited => u64::MAX,
    };
    let mut child = guest::new_store(&shared, ctx, fuel);
    let fail = |errno: Errno, what: String| guest::abandon(&shared, pid, true, errno, what).errno;
    let t0 = std::time::Instant::now();
    let ci = pre.instantiate(&mut child).map_err(|e| {
        fail(
            guest::instantiate_errno(&e),
            format!("cannot make its instance: {e}"),
        )
    })?;
    let t1 = std::time::Instant::now();
    copy_state(&parent, &mut child, ci).map_err(|(errno, what)| fail(errno, what))?;
    let t2 = std::time::Instant::now();
    if let ChildStart::Rewind(data) = start {
        let a = Asyncify::of_instance(&mut child, ci)
            .map_err(|e| fail(Errno::ENOEXEC, e.to_string()))?;
        a.start_rewind
            .call(&mut child, data)
            .map_err(|e| fail(Errno::EFAULT, e.to_string()))?;
    }
    let launched = guest::launch(
        shared.clone(),
        pre.clone(),
        Image::Forked(child, ci, start),
        slot,
        true,
    )
    .map_err(|e| e.errno);
    tracing::debug!(
        pid,
        instantiate_us = (t1 - t0).as_micros() as u64,
        memory_us = (t2 - t1).as_micros() as u64,
        launch_us = t2.elapsed().as_micros() as u64,
        "forked"
    );
    launched
}

/// Copies the parent's memory and mutable globals into the child's fresh
/// instance of the same module.
fn copy_state(
    parent: &Parent<'_>,
    child: &mut Store<GuestCtx>,
    ci: Instance,
) -> Result<(), (Errno, String)> {
    let Some(cm) = ci.get_memory(&mut *child, "memory") else {
        return Err((Errno::ENOEXEC, "no exported memory".into()));
    };
    let (have, need) = (cm.data_size(&*child), parent.memory.len());
    if need > have {
        let pages = ((need - have) / WASM_PAGE) as u64;
        cm.grow(&mut *child, pages)
            .map_err(|e| (Errno::ENOMEM, format!("cannot grow its memory: {e}")))?;
    }
    // Copy-on-write: both share the parent's pages until one writes.
    crate::memory::snapshot(parent.memory.as_ptr())
        .and_then(|snap| crate::memory::restore(cm.data_ptr(&*child), &snap))
        .map_err(|e| {
            (
                Errno::ENOMEM,
                format!("cannot share the parent's memory: {e}"),
            )
        })?;
    child.data_mut().memory = Some(cm);
    for (name, value) in &parent.globals {
        let g = ci
            .get_global(&mut *child, name)
            .ok_or_else(|| (Errno::ENOEXEC, format!("no global {name}")))?;
        g.set(&mut *child, *value)
            .map_err(|e| (Errno::ENOEXEC, format!("global {name}: {e}")))?;
    }
    Ok(())
}

const WASM_PAGE: usize = 65536;
