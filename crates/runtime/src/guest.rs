//! Guest processes: one OS thread and one wasmtime `Store` per process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;
use sidecar_kernel::fd_table::Generation;
use sidecar_kernel::signal;
use sidecar_kernel::{Errno, Pid, Ret, Syscall, WaitStatus};
use wasmtime::{Caller, Instance, InstancePre, Memory, Store, Trap, UpdateDeadline};

use crate::limits::GuestLimiter;
use crate::rpc::{GuestLink, Msg, Reply};
use crate::Shared;

/// How a guest ends other than by returning from `_start`; carried through
/// wasmtime as the error of the unwinding host call.
#[derive(Debug, Clone, Copy, thiserror::Error)]
pub enum GuestExit {
    #[error("exited with status {0}")]
    Exited(i32),
    #[error("killed by signal {0}")]
    Signaled(i32),
}

/// A committed `execve`: the image that replaces the guest's. Carried
/// through wasmtime as the error of the `execve` host call, which unwinds
/// the old instance; the guest's thread then runs this one in a fresh
/// `Store`, as the same process.
pub(crate) struct ExecImage {
    pub pre: InstancePre<GuestCtx>,
    pub name: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
}

impl std::fmt::Debug for ExecImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecImage")
            .field("name", &self.name)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for ExecImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "replaced by {} (execve)", self.name)
    }
}

impl std::error::Error for ExecImage {}

/// Why a host call did not produce a value.
#[derive(Debug)]
pub enum Fault {
    Errno(Errno),
    Exit(GuestExit),
    /// A signal interrupted the call under SA_RESTART: run it again after
    /// the handlers.
    Restart,
}

impl From<Errno> for Fault {
    fn from(e: Errno) -> Fault {
        Fault::Errno(e)
    }
}

pub type AbiResult<T> = Result<T, Fault>;

/// CPU budget of a guest, in wasmtime fuel units (about one per wasm
/// instruction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Unlimited,
    Fuel(u64),
}

/// What a guest is started with.
#[derive(Debug, Clone)]
pub struct GuestSpec {
    pub name: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub budget: Budget,
    /// Linear memory limit in bytes.
    pub memory_limit: Option<usize>,
}

/// The data of a guest's `Store`.
pub struct GuestCtx {
    pub pid: Pid,
    pub spec: GuestSpec,
    link: GuestLink,
    tx: Sender<Msg>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) memory: Option<Memory>,
    limits: GuestLimiter,
    /// Fuel its exited children did not burn, for it to take back.
    refund: Arc<AtomicU64>,
    /// Where its own unburnt fuel goes when it exits: its parent's refund.
    refund_to: Option<Arc<AtomicU64>>,
    pub(crate) started: Instant,
    /// Dropped when the thread ends; the VM waits for all of them.
    pub(crate) alive: Sender<()>,
    /// Set when the kernel says a caught signal is due.
    signal_due: std::cell::Cell<bool>,
    /// Function-table index of the SDK's signal trampoline.
    pub(crate) trampoline: Option<u32>,
    /// Directory fds' paths, learnt from the kernel.
    dirs: DirCache,
    /// A fork on its way: unwinding out of `_start`, or rewinding into it.
    pub(crate) fork: Option<crate::fork::ForkState>,
    /// How many signal handlers are running (nested in host calls).
    pub(crate) in_handler: std::cell::Cell<u32>,
    /// The module it runs, which a fork instantiates again.
    pub(crate) pre: Option<InstancePre<GuestCtx>>,
}

/// The VFS paths of a process's directory fds, kept while its fd table is
/// unchanged, so that `stat` makes no kernel call at all (see
/// [`sidecar_kernel::fd_table::Generation`]).
#[derive(Default)]
struct DirCache {
    table: Option<(Generation, u64)>,
    paths: HashMap<i32, String>,
}

impl GuestCtx {
    /// The context of a new process `link.pid`; `refund_to` is its
    /// parent's fuel refund.
    pub(crate) fn new(
        shared: &Arc<Shared>,
        spec: GuestSpec,
        link: GuestLink,
        alive: Sender<()>,
        refund_to: Option<Arc<AtomicU64>>,
    ) -> GuestCtx {
        GuestCtx {
            pid: link.pid,
            tx: shared.tx.clone(),
            shared: shared.clone(),
            limits: GuestLimiter::new(spec.memory_limit, shared.usage.clone()),
            spec,
            link,
            memory: None,
            refund: Arc::default(),
            refund_to,
            started: Instant::now(),
            alive,
            signal_due: std::cell::Cell::new(false),
            trampoline: None,
            dirs: DirCache::default(),
            fork: None,
            in_handler: std::cell::Cell::new(0),
            pre: None,
        }
    }

    /// One RPC to the kernel: its reply, with "killed" and "restart"
    /// already turned into faults and a due signal noted.
    fn rpc(&self, call: Syscall) -> AbiResult<Reply> {
        let gone = || Fault::Exit(GuestExit::Signaled(signal::SIGKILL));
        self.tx
            .send(Msg::Call {
                pid: self.pid,
                call,
            })
            .map_err(|_| gone())?;
        let reply = crate::spin::recv(&self.link.replies, None, &crate::spin::REPLY);
        match reply.ok().flatten().ok_or_else(gone)? {
            Reply::Done { result, signal } => {
                self.signal_due.set(self.signal_due.get() | signal);
                Ok(Reply::Done { result, signal })
            }
            Reply::Restart => {
                self.signal_due.set(true);
                Err(Fault::Restart)
            }
            Reply::Killed(sig) => Err(Fault::Exit(GuestExit::Signaled(sig))),
            spawned => Ok(spawned),
        }
    }

    /// A call whose result the guest already knows, sent without waiting
    /// for the reply (see [`Msg::Post`]).
    pub(crate) fn post(&self, call: Syscall) -> AbiResult<()> {
        self.tx
            .send(Msg::Post {
                pid: self.pid,
                call,
            })
            .map_err(|_| Fault::Exit(GuestExit::Signaled(signal::SIGKILL)))
    }

    /// A kernel call and its result.
    pub fn call(&self, call: Syscall) -> AbiResult<Ret> {
        match self.rpc(call)? {
            Reply::Done { result, .. } => result.map_err(Fault::Errno),
            _ => Err(Fault::Errno(Errno::EIO)),
        }
    }

    /// The VFS path of directory fd `dirfd`: from the cache while the fd
    /// table stands still, else from the kernel.
    pub(crate) fn dir_path(&mut self, dirfd: i32) -> AbiResult<String> {
        let d = &mut self.dirs;
        match &d.table {
            Some((table, at)) if table.get() == *at => {
                if let Some(p) = d.paths.get(&dirfd) {
                    return Ok(p.clone());
                }
            }
            _ => d.paths.clear(),
        }
        let (path, table, at) = crate::abi::expect_ret!(
            self.call(Syscall::DirPath { dirfd })?,
            Ret::DirPath { path, table, at } => (path, table, at)
        );
        let d = &mut self.dirs;
        if d.table
            .as_ref()
            .is_none_or(|(t, a)| *t != table || *a != at)
        {
            d.paths.clear();
        }
        d.paths.insert(dirfd, path.clone());
        d.table = Some((table, at));
        Ok(path)
    }

    /// Takes on a new image after `execve`: its name, argv and environment;
    /// a fresh memory count (the old store's memory is gone) and no
    /// registered trampoline.
    fn replace_image(&mut self, name: String, args: Vec<String>, env: Vec<String>) {
        self.spec.name = name;
        self.spec.args = args;
        self.spec.env = env;
        self.memory = None;
        self.trampoline = None;
        self.limits = GuestLimiter::new(self.spec.memory_limit, self.shared.usage.clone());
    }

    /// Its fuel refund, for a child to give back to.
    pub(crate) fn refund_handle(&self) -> Arc<AtomicU64> {
        self.refund.clone()
    }

    /// Whether a caught signal may be due; clears the flag.
    pub(crate) fn take_signal_flag(&self) -> bool {
        self.signal_due.replace(false)
    }

    /// The `Spawn` call, whose reply carries the child's link.
    pub(crate) fn spawn_call(&self, call: Syscall) -> AbiResult<GuestLink> {
        match self.rpc(call)? {
            Reply::Spawned(link) => Ok(link),
            Reply::Done { result, .. } => Err(Fault::Errno(result.err().unwrap_or(Errno::EIO))),
            _ => Err(Fault::Errno(Errno::EIO)),
        }
    }
}

/// Why a guest could not start: the errno its spawn returns, and what
/// happened.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct StartError {
    pub errno: Errno,
    pub what: String,
}

/// Starts `pre` as process `link.pid` on a thread of its own, and returns
/// once its instance exists, so that a process that cannot start is an
/// errno of the spawn (`EAGAIN` without a thread, `ENOMEM` without memory
/// for its instance), as Linux's `posix_spawn` reports a failed exec. The
/// kernel then forgets the process. `parent` is the spawning guest, whose
/// fuel refund receives what the child does not burn.
pub(crate) fn start(
    shared: Arc<Shared>,
    pre: InstancePre<GuestCtx>,
    spec: GuestSpec,
    link: GuestLink,
    alive: Sender<()>,
    parent: Option<&GuestCtx>,
) -> Result<(), StartError> {
    let pid = link.pid;
    let spawned = parent.is_some();
    let Some(slot) = shared.usage.thread() else {
        return Err(abandon(
            &shared,
            pid,
            spawned,
            Errno::EAGAIN,
            THREADS_AT_LIMIT.into(),
        ));
    };
    let ctx = GuestCtx::new(&shared, spec, link, alive, parent.map(|p| p.refund.clone()));
    launch(shared, pre, Image::Fresh(Box::new(ctx)), slot, spawned)
}

const THREADS_AT_LIMIT: &str = "the VM's guest threads are at limits.processes";

/// Tells the kernel that process `pid` will not run after all, and makes
/// the error its spawn (or fork) returns.
pub(crate) fn abandon(
    shared: &Shared,
    pid: Pid,
    spawned: bool,
    errno: Errno,
    what: String,
) -> StartError {
    if spawned {
        tracing::warn!("pid {pid}: {what}; spawn fails with {errno:?}");
    }
    let _ = shared.tx.send(Msg::Call {
        pid,
        call: Syscall::SpawnFailed,
    });
    StartError { errno, what }
}

/// What a guest thread starts from.
pub(crate) enum Image {
    /// A new process: the thread instantiates `pre`.
    Fresh(Box<GuestCtx>),
    /// A forked child, instantiated and filled in by its parent (see
    /// [`crate::fork`]).
    Forked(Store<GuestCtx>, Instance, crate::fork::ChildStart),
}

/// Runs `image` on a thread of its own (holding `slot`), and returns once
/// its instance exists.
pub(crate) fn launch(
    shared: Arc<Shared>,
    pre: InstancePre<GuestCtx>,
    image: Image,
    slot: crate::limits::ThreadSlot,
    spawned: bool,
) -> Result<(), StartError> {
    let (pid, name) = match &image {
        Image::Fresh(ctx) => (ctx.pid, ctx.spec.name.clone()),
        Image::Forked(store, ..) => (store.data().pid, store.data().spec.name.clone()),
    };
    let (ready_tx, ready) = crossbeam_channel::bounded(1);
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name(format!("guest-{pid}-{name}"))
            .stack_size(8 << 20)
            .spawn(move || {
                let _slot = slot;
                let mut ready = Some(ready_tx);
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run(shared.clone(), pre, image, &mut ready)
                }));
                // A panic before the instance existed is the spawner's
                // error; after, the process dies as if by SIGKILL.
                if ran.is_err() && ready.is_none() {
                    let _ = shared.tx.send(Msg::Call {
                        pid,
                        call: Syscall::Exit {
                            status: WaitStatus::signaled(signal::SIGKILL),
                        },
                    });
                }
            })
    };
    if let Err(e) = thread {
        let what = format!("cannot make a thread: {e}");
        return Err(abandon(&shared, pid, spawned, Errno::EAGAIN, what));
    }
    match ready.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err((errno, what))) => Err(abandon(&shared, pid, spawned, errno, what)),
        // The thread ended (panicked) before its instance existed.
        Err(_) => Err(abandon(
            &shared,
            pid,
            spawned,
            Errno::EAGAIN,
            "its thread ended at once".into(),
        )),
    }
}

/// Takes a child's budget out of the parent's fuel at spawn: half of what
/// the parent has left, so that a process tree never burns more than the
/// budget of the guest at its root. `Unlimited` stays unlimited.
pub(crate) fn take_fuel_share(c: &mut Caller<'_, GuestCtx>) -> Budget {
    let budget = c.data().spec.budget;
    if !c.data().shared.fuel || budget == Budget::Unlimited {
        return budget;
    }
    let left = c.get_fuel().unwrap_or(0);
    let share = left / 2;
    let _ = c.set_fuel(left - share);
    Budget::Fuel(share)
}

/// Gives fuel back to the calling guest: a share whose spawn failed, or
/// what its exited children did not burn (collected at every host call).
pub(crate) fn absorb_fuel(c: &mut Caller<'_, GuestCtx>, extra: u64) {
    if !c.data().shared.fuel || c.data().spec.budget == Budget::Unlimited {
        return;
    }
    let extra = extra.saturating_add(c.data().refund.swap(0, Ordering::Relaxed));
    if extra > 0 {
        let left = c.get_fuel().unwrap_or(0);
        let _ = c.set_fuel(left.saturating_add(extra));
    }
}

/// Whether children have fuel to give back (cheap; checked per host call).
pub(crate) fn has_refund(ctx: &GuestCtx) -> bool {
    ctx.refund.load(Ordering::Relaxed) != 0
}

/// Why an instance could not be made, as the spawn's errno: wasmtime fails
/// instantiation for memory (the VM's limit, or mmap) in every case a
/// module that loaded can fail before running any code.
pub(crate) fn instantiate_errno(e: &wasmtime::Error) -> Errno {
    match e.root_cause().downcast_ref::<std::io::Error>() {
        Some(io) if io.raw_os_error() == Some(Errno::EAGAIN as i32) => Errno::EAGAIN,
        _ => Errno::ENOMEM,
    }
}

fn run(
    shared: Arc<Shared>,
    pre: InstancePre<GuestCtx>,
    image: Image,
    ready: &mut Option<crossbeam_channel::Sender<Result<(), (Errno, String)>>>,
) {
    let (pid, budget, tx) = match &image {
        Image::Fresh(ctx) => (ctx.pid, ctx.spec.budget, ctx.tx.clone()),
        Image::Forked(store, ..) => {
            let ctx = store.data();
            (ctx.pid, ctx.spec.budget, ctx.tx.clone())
        }
    };
    let mut pre = pre;
    let mut image = Some(image);
    // The fuel a new image starts with: its budget, or after an execve
    // what the old image left.
    let mut fuel = match budget {
        Budget::Fuel(n) => n,
        Budget::Unlimited => u64::MAX,
    };
    loop {
        let (store, result) = match image.take().expect("an image to run") {
            Image::Forked(mut store, instance, start) => {
                let _ = ready.take().map(|r| r.send(Ok(())));
                store.data_mut().pre = Some(pre.clone());
                let result = match start {
                    crate::fork::ChildStart::Rewind(_) => enter(&mut store, instance, &pre),
                    crate::fork::ChildStart::Entry(index) => {
                        call_entry(&mut store, instance, index)
                    }
                };
                (store, result)
            }
            Image::Fresh(ctx) => {
                let mut store = new_store(&shared, *ctx, fuel);
                let result = match pre.instantiate(&mut store) {
                    Ok(instance) => {
                        let _ = ready.take().map(|r| r.send(Ok(())));
                        store.data_mut().memory = instance.get_memory(&mut store, "memory");
                        store.data_mut().pre = Some(pre.clone());
                        enter(&mut store, instance, &pre)
                    }
                    // Code ran (a start function) and ended the process: it
                    // existed.
                    Err(e) if e.is::<GuestExit>() || e.is::<Trap>() || e.is::<ExecImage>() => {
                        let _ = ready.take().map(|r| r.send(Ok(())));
                        Err(e)
                    }
                    Err(e) => {
                        let what = format!("cannot make its instance: {}", first_line(&e));
                        match ready.take() {
                            Some(r) => {
                                let errno = instantiate_errno(&e);
                                let _ = r.send(Err((errno, what)));
                                return;
                            }
                            // Past execve's point of no return: the process
                            // dies, as Linux kills it with SIGSEGV.
                            None => {
                                let name = &store.data().spec.name;
                                tracing::warn!(
                                    "guest {name} (pid {pid}): {what} after execve; killed with SIGSEGV"
                                );
                                Err(GuestExit::Signaled(signal::SIGSEGV).into())
                            }
                        }
                    }
                };
                (store, result)
            }
        };
        let result = match result {
            Err(e) if e.is::<ExecImage>() => e.downcast::<ExecImage>().map_err(Err),
            other => Err(other),
        };
        let result = match result {
            // execve: the same process, thread and fuel go on with the new
            // image; the old store (its memory) is gone before the new one
            // is made.
            Ok(new) => {
                if shared.fuel {
                    fuel = store.get_fuel().unwrap_or(0);
                }
                let mut ctx = store.into_data();
                ctx.replace_image(new.name, new.args, new.env);
                pre = new.pre;
                image = Some(Image::Fresh(Box::new(ctx)));
                continue;
            }
            Err(result) => result,
        };
        let name = store.data().spec.name.clone();
        let status = match result {
            Ok(()) => WaitStatus::exited(0),
            Err(e) => classify(&e, &name, pid, budget),
        };
        // What it did not burn goes back to its parent.
        if shared.fuel && budget != Budget::Unlimited {
            let ctx = store.data();
            let left = store.get_fuel().unwrap_or(0);
            let unburnt = left.saturating_add(ctx.refund.swap(0, Ordering::Relaxed));
            if let Some(to) = &ctx.refund_to {
                to.fetch_add(unburnt, Ordering::Relaxed);
            }
        }
        let _ = tx.send(Msg::Call {
            pid,
            call: Syscall::Exit { status },
        });
        drop(store);
        return;
    }
}

/// Runs a forked child's entry: the function at `index` of the table.
fn call_entry(store: &mut Store<GuestCtx>, instance: Instance, index: u32) -> wasmtime::Result<()> {
    let table = instance
        .get_table(&mut *store, "__indirect_function_table")
        .ok_or_else(|| wasmtime::Error::msg("no function table"))?;
    let f = table
        .get(&mut *store, u64::from(index))
        .and_then(|r| r.as_func().flatten().copied())
        .ok_or_else(|| wasmtime::Error::msg("no fork entry"))?;
    f.typed::<(), ()>(&*store)?.call(&mut *store, ())
}

/// Runs `_start` to its end. A fork unwinds out of it: then the child is
/// made, and `_start` is entered again to rewind into `fork`.
fn enter(
    store: &mut Store<GuestCtx>,
    instance: Instance,
    pre: &InstancePre<GuestCtx>,
) -> wasmtime::Result<()> {
    let entry = instance.get_typed_func::<(), ()>(&mut *store, "_start")?;
    loop {
        entry.call(&mut *store, ())?;
        match store.data_mut().fork.take() {
            Some(crate::fork::ForkState::Unwound(fork)) => {
                crate::fork::complete(store, instance, pre, fork)?
            }
            other => {
                store.data_mut().fork = other;
                return Ok(());
            }
        }
    }
}

/// A store for one image of the guest: its memory limiter, `fuel`, and the
/// epoch callback through which signals reach running wasm.
pub(crate) fn new_store(shared: &Shared, ctx: GuestCtx, fuel: u64) -> Store<GuestCtx> {
    let (pid, name) = (ctx.pid, ctx.spec.name.clone());
    let kill = ctx.link.kill.clone();
    let stop = ctx.link.stop.clone();
    let mut store = Store::new(&shared.engine, ctx);
    store.limiter(|c| &mut c.limits);
    if shared.fuel {
        if let Err(e) = store.set_fuel(fuel) {
            tracing::error!("guest {name} (pid {pid}): cannot set its fuel: {e}");
        }
    }
    // Epochs only advance when a signal must reach running wasm; the
    // callback checks whether it is for us.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |ctx| {
        // Stopped while computing: wait here until SIGCONT (or death).
        if stop.swap(false, Ordering::SeqCst) {
            if let Err(Fault::Exit(x)) = ctx.data().call(Syscall::StopPoint) {
                return Err(x.into());
            }
        }
        match kill.load(Ordering::SeqCst) {
            0 => Ok(UpdateDeadline::Continue(1)),
            sig => Err(GuestExit::Signaled(sig).into()),
        }
    });
    store
}

fn first_line(e: &wasmtime::Error) -> String {
    let s = e.root_cause().to_string();
    s.lines().next().unwrap_or("").to_owned()
}

/// The wait status a guest error stands for, logging what is not a plain
/// exit.
fn classify(e: &wasmtime::Error, name: &str, pid: Pid, budget: Budget) -> WaitStatus {
    if let Some(exit) = e.downcast_ref::<GuestExit>() {
        return match *exit {
            GuestExit::Exited(code) => WaitStatus::exited(code),
            GuestExit::Signaled(sig) => WaitStatus::signaled(sig),
        };
    }
    let trap = e.downcast_ref::<Trap>();
    let sig = match trap {
        Some(Trap::OutOfFuel) => {
            let limit = match budget {
                Budget::Fuel(n) => n.to_string(),
                Budget::Unlimited => "unlimited".into(),
            };
            tracing::warn!(
                "guest {name} (pid {pid}): fuel budget exhausted ({limit} units); killed with SIGXCPU"
            );
            return WaitStatus::signaled(signal::SIGXCPU);
        }
        Some(Trap::MemoryOutOfBounds | Trap::StackOverflow | Trap::HeapMisaligned) => {
            signal::SIGSEGV
        }
        Some(
            Trap::IntegerDivisionByZero | Trap::IntegerOverflow | Trap::BadConversionToInteger,
        ) => signal::SIGFPE,
        Some(Trap::UnreachableCodeReached) => signal::SIGABRT,
        _ => signal::SIGILL,
    };
    let what = match trap {
        Some(t) => t.to_string(),
        None => e.root_cause().to_string(),
    };
    let what = what.lines().next().unwrap_or("");
    tracing::warn!("guest {name} (pid {pid}) crashed: {what}; killed with signal {sig}");
    // The wasm backtrace, for whoever debugs the guest (SIDECAR_LOG=debug).
    tracing::debug!("guest {name} (pid {pid}): {e:?}");
    WaitStatus::signaled(sig)
}
