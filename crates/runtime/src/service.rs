//! The kernel service thread.
//!
//! The kernel is owned by one thread. Guest threads reach it by sync RPC: a
//! [`Msg::Call`] on the shared request channel, answered on the guest's own
//! reply channel. A guest thread has at most one call outstanding (a
//! [`Msg::Post`] is a cheap non-blocking step that precedes its next call),
//! so taking requests in arrival order serves the ready guests round-robin:
//! no guest can have a second call served while another guest's call waits.
//!
//! A call that would block is parked with the wait keys the kernel named and
//! retried only when one of those queues is notified, or when its own
//! deadline passes (a sleep or a poll timeout). The thread itself waits for
//! the next message, or until the earliest parked deadline or interval
//! timer expiry, after a bounded spin (see `spin`): there is no polling
//! interval anywhere.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use sidecar_kernel::kernel::{Action, InitSpec};
use sidecar_kernel::unix::bridge::BridgeId;
use sidecar_kernel::wait::WaitKey;
use sidecar_kernel::{Errno, KResult, Kernel, Outcome, Pid, Ret, Syscall, WaitStatus};

/// Requests to the service thread.
pub enum Msg {
    Call {
        pid: Pid,
        call: Syscall,
    },
    /// A call that cannot fail or block, and that the guest does not wait
    /// for (re-arming an interval timer: X.Org does it twice per wakeup).
    /// It is applied in order with the guest's other calls; it is the one
    /// exception to "at most one message per guest in the queue".
    Post {
        pid: Pid,
        call: Syscall,
    },
    /// Start a process for the VM.
    Start {
        spec: InitSpec,
        reply: Sender<KResult<(GuestLink, Option<crate::bridge::BridgeLink>)>>,
    },
    /// Host stdin data; `None` is EOF.
    Stdin(Option<Vec<u8>>),
    /// Send `sig` to every live process (VM shutdown, host signals).
    KillAll(i32),
    /// Stop serving.
    Shutdown,
    /// Host services: connect a bridge to the guest listener at `path`.
    BridgeConnect {
        path: String,
        reply: Sender<KResult<crate::bridge::BridgeLink>>,
    },
    BridgeSend {
        id: BridgeId,
        data: Option<Vec<u8>>,
    },
    BridgeAck {
        id: BridgeId,
    },
    /// The host socket of a bridge, for writing guest data directly.
    BridgeDirect {
        id: BridgeId,
        stream: std::os::unix::net::UnixStream,
    },
    BridgeClose {
        id: BridgeId,
    },
    /// Reply once every bridge has delivered its guest data to the host.
    Drain(Sender<()>),
    /// A host terminal changed size.
    BridgeResize {
        id: BridgeId,
        rows: u16,
        cols: u16,
    },
}

/// A guest thread's end of the RPC: its pid, its reply channel and the flag
/// the service sets when the guest must unwind.
pub struct GuestLink {
    pub pid: Pid,
    pub replies: Receiver<Reply>,
    pub kill: Arc<AtomicI32>,
    /// Set when the process was stopped while running wasm.
    pub stop: Arc<std::sync::atomic::AtomicBool>,
}

/// Answers to a call.
pub enum Reply {
    /// The call's result; `signal` says a caught signal is due.
    Done { result: KResult<Ret>, signal: bool },
    /// A signal interrupted the call; run the handlers, then call again.
    Restart,
    /// The process was killed by this signal; the guest must unwind.
    Killed(i32),
    /// `Spawn` succeeded: the child's link.
    Spawned(GuestLink),
}

/// Events the VM controller hears about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmEvent {
    Exited { pid: Pid, status: WaitStatus },
}

struct Proc {
    reply: Sender<Reply>,
    kill: Arc<AtomicI32>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    parked: Option<u64>,
}

/// The host side of a bridge, as the service reaches it.
struct HostSide {
    /// The writer thread (guest data that must wait, and end of stream).
    events: Sender<crate::bridge::BridgeEvent>,
    /// The reader thread's permission to read more.
    credit: crate::bridge::Credit,
    /// The host socket, written directly while it has room.
    direct: Option<std::os::unix::net::UnixStream>,
}

struct Parked {
    pid: Pid,
    call: Syscall,
    keys: Vec<WaitKey>,
    deadline: Option<Instant>,
}

pub struct Service {
    kernel: Kernel,
    rx: Receiver<Msg>,
    events: Sender<VmEvent>,
    stdin_credit: Option<Sender<()>>,
    engine: wasmtime::Engine,
    procs: HashMap<Pid, Proc>,
    parked: HashMap<u64, Parked>,
    by_key: HashMap<WaitKey, Vec<u64>>,
    deadlines: BTreeSet<(Instant, u64)>,
    next_id: u64,
    /// Host sides of bridges: where their data and credit go.
    bridges: HashMap<BridgeId, HostSide>,
    tx: Option<Sender<Msg>>,
    drain: Option<Sender<()>>,
}

impl Service {
    pub fn new(
        kernel: Kernel,
        rx: Receiver<Msg>,
        events: Sender<VmEvent>,
        stdin_credit: Option<Sender<()>>,
        engine: wasmtime::Engine,
    ) -> Service {
        Service {
            kernel,
            rx,
            events,
            stdin_credit,
            engine,
            procs: HashMap::new(),
            parked: HashMap::new(),
            by_key: HashMap::new(),
            deadlines: BTreeSet::new(),
            next_id: 0,
            bridges: HashMap::new(),
            tx: None,
            drain: None,
        }
    }

    /// Lets `connect-out` bridges send to this service.
    pub fn with_sender(mut self, tx: Sender<Msg>) -> Service {
        self.tx = Some(tx);
        self
    }

    /// Serves until [`Msg::Shutdown`] or every sender of the request
    /// channel is gone.
    pub fn run(mut self) {
        loop {
            let parked = self.deadlines.first().map(|&(when, _)| when);
            let next = match (parked, self.kernel.next_timer()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Ok(msg) = crate::spin::recv(&self.rx, next, &crate::spin::SERVICE) else {
                break;
            };
            match msg {
                Some(Msg::Shutdown) => break,
                Some(m) => self.handle(m),
                None => {}
            }
            // Checked after messages too: a steady stream of calls must not
            // hold back a timeout or a timer.
            if next.is_some_and(|when| when <= Instant::now()) {
                self.expire();
            }
            self.settle();
            if self.drain.is_some() && self.kernel.bridges_drained() {
                let _ = self.drain.take().map(|d| d.send(()));
            }
        }
        // What the VM made in its folders for `connect-out` goes with it.
        self.kernel.remove_outlets();
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Call { pid, call } => self.attempt(pid, call),
            Msg::Post { pid, call } => self.kernel.posted(pid, call),
            Msg::Start { spec, reply } => {
                let r = self
                    .kernel
                    .create_process(spec)
                    .map(|(pid, tty)| (self.link(pid), tty.map(|id| self.bridge_link(id))));
                let _ = reply.send(r);
            }
            Msg::Stdin(data) => self.kernel.host_stdin(data),
            Msg::KillAll(sig) => {
                for pid in self.kernel.live_pids() {
                    self.kernel.send_signal(pid, sig);
                }
            }
            Msg::Shutdown => {}
            Msg::BridgeConnect { path, reply } => {
                let r = self
                    .kernel
                    .bridge_connect(&path)
                    .map(|id| self.bridge_link(id));
                let _ = reply.send(r);
            }
            Msg::BridgeSend { id, data } => self.kernel.bridge_from_host(id, data),
            Msg::BridgeAck { id } => self.kernel.bridge_ack(id),
            Msg::BridgeDirect { id, stream } => {
                if let Some(h) = self.bridges.get_mut(&id) {
                    h.direct = Some(stream);
                }
            }
            Msg::BridgeClose { id } => {
                self.bridges.remove(&id);
                self.kernel.bridge_close(id);
            }
            Msg::Drain(reply) => self.drain = Some(reply),
            Msg::BridgeResize { id, rows, cols } => {
                let size = sidecar_kernel::pty::termios::Winsize {
                    rows,
                    cols,
                    xpixel: 0,
                    ypixel: 0,
                };
                self.kernel.bridge_resize(id, size);
            }
        }
    }

    fn bridge_link(&mut self, id: BridgeId) -> crate::bridge::BridgeLink {
        let (link, events, credit) = crate::bridge::link(id);
        self.bridges.insert(
            id,
            HostSide {
                events,
                credit,
                direct: None,
            },
        );
        link
    }

    fn link(&mut self, pid: Pid) -> GuestLink {
        let (tx, rx) = crossbeam_channel::unbounded();
        let kill = Arc::new(AtomicI32::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        self.procs.insert(
            pid,
            Proc {
                reply: tx,
                kill: kill.clone(),
                stop: stop.clone(),
                parked: None,
            },
        );
        GuestLink {
            pid,
            replies: rx,
            kill,
            stop,
        }
    }

    /// Runs a call once; completes it or parks it.
    fn attempt(&mut self, pid: Pid, mut call: Syscall) {
        tracing::trace!(pid, ?call, "call");
        let is_exit = call.ends_process();
        let is_spawn = matches!(call, Syscall::Spawn(_));
        match self.kernel.call(pid, &mut call) {
            Outcome::Ready(r) => {
                let reply = match r {
                    Ok(Ret::Pid(child)) if is_spawn => Reply::Spawned(self.link(child)),
                    Err(Errno::EINTR) if self.killed(pid).is_some() => {
                        Reply::Killed(self.killed(pid).unwrap())
                    }
                    result => Reply::Done {
                        result,
                        signal: self.kernel.signal_due(pid),
                    },
                };
                self.reply(pid, reply);
                if is_exit {
                    self.procs.remove(&pid);
                }
            }
            Outcome::Block(keys) => {
                tracing::trace!(pid, ?keys, "parked");
                self.park(pid, call, keys)
            }
        }
    }

    fn killed(&self, pid: Pid) -> Option<i32> {
        self.kernel.process(pid).and_then(|p| p.killed())
    }

    fn reply(&mut self, pid: Pid, reply: Reply) {
        if let Some(p) = self.procs.get(&pid) {
            // A guest that already unwound has dropped its receiver.
            let _ = p.reply.send(reply);
        }
    }

    fn park(&mut self, pid: Pid, call: Syscall, keys: Vec<WaitKey>) {
        let id = self.next_id;
        self.next_id += 1;
        let deadline = call.deadline();
        for k in &keys {
            self.by_key.entry(*k).or_default().push(id);
        }
        if let Some(d) = deadline {
            self.deadlines.insert((d, id));
        }
        if let Some(p) = self.procs.get_mut(&pid) {
            p.parked = Some(id);
        }
        self.parked.insert(
            id,
            Parked {
                pid,
                call,
                keys,
                deadline,
            },
        );
    }

    fn unpark(&mut self, id: u64) -> Option<Parked> {
        let p = self.parked.remove(&id)?;
        for k in &p.keys {
            if let Some(ids) = self.by_key.get_mut(k) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
        if let Some(d) = p.deadline {
            self.deadlines.remove(&(d, id));
        }
        if let Some(proc_) = self.procs.get_mut(&p.pid) {
            proc_.parked = None;
        }
        Some(p)
    }

    /// Fires due interval timers and retries every parked call whose
    /// deadline has passed.
    fn expire(&mut self) {
        let now = Instant::now();
        self.kernel.fire_timers(now);
        let due: Vec<u64> = self
            .deadlines
            .iter()
            .take_while(|(d, _)| *d <= now)
            .map(|(_, id)| *id)
            .collect();
        for id in due {
            if let Some(p) = self.unpark(id) {
                self.attempt(p.pid, p.call);
            }
        }
    }

    /// Applies kernel actions and retries woken calls until nothing changes.
    fn settle(&mut self) {
        loop {
            // Host input to a terminal (^C, a resize) raises signals too.
            self.kernel.drain_tty_events();
            let actions = self.kernel.take_actions();
            let keys = self.kernel.notifier().drain();
            if actions.is_empty() && keys.is_empty() {
                return;
            }
            for a in actions {
                self.act(a);
            }
            if keys.is_empty() {
                continue;
            }
            self.kernel.on_wakeup(&keys);
            let mut woken: Vec<u64> = keys
                .iter()
                .filter_map(|k| self.by_key.get(k))
                .flatten()
                .copied()
                .collect();
            // Oldest first, so wakeups stay fair.
            woken.sort_unstable();
            woken.dedup();
            for id in woken {
                if let Some(p) = self.unpark(id) {
                    self.attempt(p.pid, p.call);
                }
            }
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Terminate { pid, sig } => {
                let Some(p) = self.procs.get(&pid) else {
                    return;
                };
                p.kill.store(sig, Ordering::SeqCst);
                match p.parked {
                    Some(id) => {
                        self.unpark(id);
                        self.reply(pid, Reply::Killed(sig));
                    }
                    // Running wasm notices at its next epoch check.
                    None => self.engine.increment_epoch(),
                }
            }
            Action::Exited { pid, status } => {
                let _ = self.events.send(VmEvent::Exited { pid, status });
            }
            Action::Stop { pid } => {
                // A parked call already waits; running wasm must check in.
                if let Some(p) = self.procs.get(&pid) {
                    if p.parked.is_none() {
                        p.stop.store(true, Ordering::SeqCst);
                        self.engine.increment_epoch();
                    }
                }
            }
            Action::Interrupt { pid } => {
                let Some(id) = self.procs.get(&pid).and_then(|p| p.parked) else {
                    // Running: the handler runs at its next kernel call.
                    return;
                };
                let Some(mut p) = self.unpark(id) else { return };
                // A call that can complete now does; the handler runs after.
                let result = match self.kernel.call(pid, &mut p.call) {
                    Outcome::Ready(result) => Some(result),
                    Outcome::Block(_) => self.kernel.interrupted(pid, &p.call),
                };
                let reply = match result {
                    None => Reply::Restart,
                    Some(result) => Reply::Done {
                        result,
                        signal: true,
                    },
                };
                self.reply(pid, reply);
            }
            Action::StdinCredit => {
                if let Some(c) = &self.stdin_credit {
                    let _ = c.try_send(());
                }
            }
            Action::BridgeData { id, mut data } => {
                let Some(h) = self.bridges.get(&id) else {
                    return;
                };
                // The kernel sends nothing more until this chunk is acked,
                // so a chunk left to the writer thread keeps its order.
                let sent = h
                    .direct
                    .as_ref()
                    .map_or(0, |s| crate::bridge::send_now(s, &data));
                if sent == data.len() {
                    self.kernel.bridge_ack(id);
                } else {
                    data.drain(..sent);
                    let _ = h.events.send(crate::bridge::BridgeEvent::Data(data));
                }
            }
            Action::BridgeEof { id } => {
                if let Some(h) = self.bridges.get(&id) {
                    let _ = h.events.send(crate::bridge::BridgeEvent::Eof);
                }
            }
            Action::BridgeCredit { id, consumed } => {
                if let Some(h) = self.bridges.get(&id) {
                    h.credit.grant(consumed);
                }
            }
            Action::BridgeOpen { id, host } => {
                let link = self.bridge_link(id);
                if let Some(tx) = &self.tx {
                    crate::bridge::open_outlet(tx.clone(), link, host);
                }
            }
        }
    }
}
