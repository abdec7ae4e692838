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
//!
//! Layout: this file holds [`Service`] and what it does with one message or
//! one kernel action; `sched` the loop (messages, deadlines, wakeups);
//! `parked` the parked calls and their key index; `deadline` the deadline
//! order. The service knows the rest of the runtime only through
//! [`crate::rpc`] and the [`Host`] trait.

mod deadline;
mod parked;
mod sched;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use crossbeam_channel::{Receiver, Sender};
use sidecar_kernel::unix::bridge::BridgeId;
use sidecar_kernel::wait::WaitKey;
use sidecar_kernel::{Action, Errno, Kernel, Outcome, Pid, Ret, Syscall};

use crate::rpc::{
    bridge_link, guest_link, BridgeEnd, BridgeEvent, BridgeLink, GuestEnd, GuestLink, Msg, Reply,
    VmEvent,
};
use parked::ParkedCalls;

/// What the service thread needs from outside the kernel: the wasm engine
/// and the host ends of `connect-out` bridges. Implemented by the VM (and
/// by fakes in tests); called on the service thread only.
pub trait Host: Send {
    /// Makes running wasm check its kill and stop flags soon (advances the
    /// engine's epoch).
    fn interrupt_wasm(&self);
    /// Connects a new `connect-out` bridge to the host socket `host` and
    /// serves it; on failure the host side sends [`Msg::BridgeClose`].
    fn open_outlet(&self, link: BridgeLink, host: String);
}

/// The service thread's state of one guest process.
struct Proc {
    end: GuestEnd,
    /// Its parked call, if it has one (at most one: one call outstanding).
    parked: Option<u64>,
}

/// The kernel service thread: the one owner of the [`Kernel`].
///
/// Invariants:
/// * Built on the VM's thread and then moved to its own thread by
///   [`Service::run`]; from then on only that thread touches the kernel,
///   the parked calls and the service ends of every link. Other threads
///   reach it only through [`Msg`]s on `rx`.
/// * `procs` holds a [`GuestEnd`] for every process the kernel created
///   until its last call (`Exit`, `SpawnFailed`) is answered; each guest
///   gets at most one [`Reply`] per [`Msg::Call`].
/// * A process has at most one call parked, recorded in both `parked` and
///   its `Proc::parked`, and unparked from both at once.
/// * `bridges` holds the [`BridgeEnd`] of every open bridge; dropping one
///   (at [`Msg::BridgeClose`]) ends its writer thread and wakes its reader.
pub struct Service {
    kernel: Kernel,
    rx: Receiver<Msg>,
    events: Sender<VmEvent>,
    stdin_credit: Option<Sender<()>>,
    host: Box<dyn Host>,
    procs: HashMap<Pid, Proc>,
    parked: ParkedCalls<Syscall>,
    /// Host sides of bridges: where their data and credit go.
    bridges: HashMap<BridgeId, BridgeEnd>,
    drain: Option<Sender<()>>,
    /// Who waits for a path to listen ([`Msg::AwaitListening`]).
    listen_waiters: Vec<(String, Sender<()>)>,
}

impl Service {
    /// A service for `kernel`, taking requests from `rx` and telling the VM
    /// of exits on `events`. `stdin_credit` rings when the kernel can take
    /// more host stdin.
    pub fn new(
        kernel: Kernel,
        rx: Receiver<Msg>,
        events: Sender<VmEvent>,
        stdin_credit: Option<Sender<()>>,
        host: Box<dyn Host>,
    ) -> Service {
        Service {
            kernel,
            rx,
            events,
            stdin_credit,
            host,
            procs: HashMap::new(),
            parked: ParkedCalls::default(),
            bridges: HashMap::new(),
            drain: None,
            listen_waiters: Vec::new(),
        }
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
            Msg::AwaitListening { path, reply } => {
                if self.kernel.is_listening(&path) {
                    let _ = reply.send(());
                } else {
                    self.listen_waiters.push((path, reply));
                }
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

    fn bridge_link(&mut self, id: BridgeId) -> BridgeLink {
        let (link, end) = bridge_link(id);
        self.bridges.insert(id, end);
        link
    }

    fn link(&mut self, pid: Pid) -> GuestLink {
        let (link, end) = guest_link(pid);
        self.procs.insert(pid, Proc { end, parked: None });
        link
    }

    /// Runs a call once; completes it or parks it.
    fn attempt(&mut self, pid: Pid, mut call: Syscall) {
        tracing::trace!(pid, ?call, "call");
        let is_exit = call.ends_process();
        let is_spawn = matches!(call, Syscall::Spawn(_) | Syscall::Fork);
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
            let _ = p.end.reply.send(reply);
        }
    }

    fn park(&mut self, pid: Pid, call: Syscall, keys: Vec<WaitKey>) {
        let deadline = call.deadline();
        let id = self.parked.park(pid, call, keys, deadline);
        if let Some(p) = self.procs.get_mut(&pid) {
            p.parked = Some(id);
        }
    }

    fn unpark(&mut self, id: u64) -> Option<parked::Parked<Syscall>> {
        let p = self.parked.unpark(id)?;
        if let Some(proc_) = self.procs.get_mut(&p.pid) {
            proc_.parked = None;
        }
        Some(p)
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Terminate { pid, sig } => {
                let Some(p) = self.procs.get(&pid) else {
                    return;
                };
                p.end.kill.store(sig, Ordering::SeqCst);
                match p.parked {
                    Some(id) => {
                        self.unpark(id);
                        self.reply(pid, Reply::Killed(sig));
                    }
                    // Running wasm notices at its next epoch check.
                    None => self.host.interrupt_wasm(),
                }
            }
            Action::Exited { pid, status } => {
                let _ = self.events.send(VmEvent::Exited { pid, status });
            }
            Action::Stop { pid } => {
                // A parked call already waits; running wasm must check in.
                if let Some(p) = self.procs.get(&pid) {
                    if p.parked.is_none() {
                        p.end.stop.store(true, Ordering::SeqCst);
                        self.host.interrupt_wasm();
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
            Action::BridgeData { id, data } => {
                let Some(h) = self.bridges.get(&id) else {
                    return;
                };
                // Written whole: the kernel may hand out the next chunk.
                if h.deliver(data) {
                    self.kernel.bridge_ack(id);
                }
            }
            Action::BridgeEof { id } => {
                if let Some(h) = self.bridges.get(&id) {
                    let _ = h.events.send(BridgeEvent::Eof);
                }
            }
            Action::BridgeCredit { id, consumed } => {
                if let Some(h) = self.bridges.get(&id) {
                    h.credit.grant(consumed);
                }
            }
            Action::Listening { path } => {
                self.listen_waiters.retain(|(p, reply)| {
                    if *p == path {
                        let _ = reply.send(());
                    }
                    *p != path
                });
            }
            Action::BridgeOpen { id, host } => {
                let link = self.bridge_link(id);
                self.host.open_outlet(link, host);
            }
        }
    }
}
