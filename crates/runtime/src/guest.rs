//! Guest processes: one OS thread and one wasmtime `Store` per process.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;
use sidecar_kernel::signal;
use sidecar_kernel::{Errno, Pid, Ret, Syscall, WaitStatus};
use wasmtime::{InstancePre, Memory, Store, StoreLimits, StoreLimitsBuilder, Trap, UpdateDeadline};

use crate::service::{GuestLink, Msg, Reply};
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
    limits: StoreLimits,
    pub(crate) started: Instant,
    /// Dropped when the thread ends; the VM waits for all of them.
    pub(crate) alive: Sender<()>,
    /// Set when the kernel says a caught signal is due.
    signal_due: std::cell::Cell<bool>,
    /// Function-table index of the SDK's signal trampoline.
    pub(crate) trampoline: Option<u32>,
}

impl GuestCtx {
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

/// Starts `pre` as process `link.pid` on a thread of its own.
pub(crate) fn start(
    shared: Arc<Shared>,
    pre: InstancePre<GuestCtx>,
    spec: GuestSpec,
    link: GuestLink,
    alive: Sender<()>,
) -> std::io::Result<()> {
    let name = format!("guest-{}-{}", link.pid, spec.name);
    let mut limits = StoreLimitsBuilder::new();
    if let Some(m) = spec.memory_limit {
        limits = limits.memory_size(m);
    }
    let ctx = GuestCtx {
        pid: link.pid,
        tx: shared.tx.clone(),
        shared: shared.clone(),
        spec,
        link,
        memory: None,
        limits: limits.build(),
        started: Instant::now(),
        alive,
        signal_due: std::cell::Cell::new(false),
        trampoline: None,
    };
    std::thread::Builder::new()
        .name(name)
        .stack_size(8 << 20)
        .spawn(move || run(shared, pre, ctx))
        .map(|_| ())
}

fn run(shared: Arc<Shared>, pre: InstancePre<GuestCtx>, ctx: GuestCtx) {
    let pid = ctx.pid;
    let name = ctx.spec.name.clone();
    let budget = ctx.spec.budget;
    let kill = ctx.link.kill.clone();
    let stop = ctx.link.stop.clone();
    let tx = ctx.tx.clone();
    let mut store = Store::new(&shared.engine, ctx);
    store.limiter(|c| &mut c.limits);
    if shared.fuel {
        let fuel = match budget {
            Budget::Fuel(n) => n,
            Budget::Unlimited => u64::MAX,
        };
        store
            .set_fuel(fuel)
            .expect("fuel is enabled on this engine");
    }
    // Epochs only advance when a signal must reach running wasm; the
    // callback checks whether it is for us.
    store.set_epoch_deadline(1);
    let flag = kill.clone();
    store.epoch_deadline_callback(move |ctx| {
        // Stopped while computing: wait here until SIGCONT (or death).
        if stop.swap(false, Ordering::SeqCst) {
            if let Err(Fault::Exit(x)) = ctx.data().call(Syscall::StopPoint) {
                return Err(x.into());
            }
        }
        match flag.load(Ordering::SeqCst) {
            0 => Ok(UpdateDeadline::Continue(1)),
            sig => Err(GuestExit::Signaled(sig).into()),
        }
    });

    let result = pre.instantiate(&mut store).and_then(|instance| {
        store.data_mut().memory = instance.get_memory(&mut store, "memory");
        let entry = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        entry.call(&mut store, ())
    });
    let status = match result {
        Ok(()) => WaitStatus::exited(0),
        Err(e) => classify(&e, &name, pid, budget),
    };
    let _ = tx.send(Msg::Call {
        pid,
        call: Syscall::Exit { status },
    });
    drop(store);
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
    WaitStatus::signaled(sig)
}
