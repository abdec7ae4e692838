//! The messages and links between the service thread and everything else.
//!
//! This module is the contract both sides build on: guest threads
//! ([`crate::guest`]) and the host ends of bridges ([`crate::bridge`]) send
//! [`Msg`]s on the one request channel of the service thread
//! ([`crate::service`]), which answers on per-guest and per-bridge links
//! made here. It imports neither side, so the dependency graph is one-way:
//! `service -> rpc`, `bridge -> rpc`, `guest -> rpc`.

use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use sidecar_kernel::unix::bridge::BridgeId;
use sidecar_kernel::{InitSpec, KResult, Pid, Ret, Syscall, WaitStatus};

/// Requests to the service thread.
///
/// Every sender shares one unbounded channel, taken in arrival order by the
/// service thread alone. A guest sends a [`Msg::Call`] and waits for its
/// [`Reply`] before it sends another, so it has at most one call in the
/// queue (plus [`Msg::Post`]s, which precede its next call).
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
        reply: Sender<KResult<(GuestLink, Option<BridgeLink>)>>,
    },
    /// Reply once a socket listens at VM path `path` (at once if one
    /// does): the VM starts a guest configured `after` it then.
    AwaitListening {
        path: String,
        reply: Sender<()>,
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
        reply: Sender<KResult<BridgeLink>>,
    },
    /// Host bytes for the guest (`None`: the host side reached EOF). Sent
    /// by a bridge's reader thread within its credit window ([`WINDOW`]).
    BridgeSend {
        id: BridgeId,
        data: Option<Vec<u8>>,
    },
    /// The writer thread has written the last [`BridgeEvent::Data`] chunk;
    /// the kernel may hand out the next.
    BridgeAck {
        id: BridgeId,
    },
    /// The host socket of a bridge, for writing guest data directly.
    BridgeDirect {
        id: BridgeId,
        stream: UnixStream,
    },
    /// Both directions of a bridge's host side have ended.
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

/// A guest thread's end of the RPC: its pid, its reply channel and the
/// flags the service sets when the guest must unwind or stop.
///
/// Made by the service thread (with its [`GuestEnd`], see [`guest_link`])
/// when it creates the process, then moved to the guest's own thread,
/// which alone reads `replies`. The service sends at most one [`Reply`] per
/// [`Msg::Call`]; the flags are written by the service thread and read by
/// the guest's epoch callback while wasm runs.
pub struct GuestLink {
    pub pid: Pid,
    pub replies: Receiver<Reply>,
    /// Nonzero: the signal that killed the process.
    pub kill: Arc<AtomicI32>,
    /// Set when the process was stopped while running wasm.
    pub stop: Arc<AtomicBool>,
}

/// The service thread's end of a [`GuestLink`]; owned by the service alone
/// for as long as the process exists in the kernel.
pub(crate) struct GuestEnd {
    pub(crate) reply: Sender<Reply>,
    pub(crate) kill: Arc<AtomicI32>,
    pub(crate) stop: Arc<AtomicBool>,
}

/// The two ends of a new guest's RPC link.
/// Waits, up to `timeout` (`None`: for good), until a socket listens at VM
/// path `path`; false if none did in time or the service thread is gone.
/// Woken by the listen itself ([`Msg::AwaitListening`]), not polled.
pub(crate) fn await_listening(
    tx: &Sender<Msg>,
    path: &str,
    timeout: Option<std::time::Duration>,
) -> bool {
    let (reply, answer) = crossbeam_channel::bounded(1);
    let msg = Msg::AwaitListening {
        path: path.to_owned(),
        reply,
    };
    if tx.send(msg).is_err() {
        return false;
    }
    match timeout {
        Some(t) => answer.recv_timeout(t).is_ok(),
        None => answer.recv().is_ok(),
    }
}

pub(crate) fn guest_link(pid: Pid) -> (GuestLink, GuestEnd) {
    let (reply, replies) = crossbeam_channel::unbounded();
    let kill = Arc::new(AtomicI32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let end = GuestEnd {
        reply,
        kill: kill.clone(),
        stop: stop.clone(),
    };
    let link = GuestLink {
        pid,
        replies,
        kill,
        stop,
    };
    (link, end)
}

/// What the kernel tells a bridge's host side (its writer thread).
#[derive(Debug)]
pub enum BridgeEvent {
    /// Guest bytes to write to the host; the writer answers
    /// [`Msg::BridgeAck`] once they are written.
    Data(Vec<u8>),
    /// The guest side ended: shut down the host side's writing half.
    Eof,
}

/// Host bytes a bridge's reader may have sent beyond what the guest socket
/// has taken: what the kernel may queue for one bridge, at most.
pub(crate) const WINDOW: u64 = 256 * 1024;

/// A host-side handle on one bridge.
///
/// Made by the service thread together with its [`BridgeEnd`] (see
/// [`bridge_link`]) and handed to the host: to `connect`'s caller, the VM's
/// terminal, or a `connect-out` thread. The host side then splits it
/// between two threads: the writer takes `events` (guest data, one chunk
/// at a time, each acknowledged with [`Msg::BridgeAck`]), the reader takes
/// the credit [`Window`].
pub struct BridgeLink {
    pub id: BridgeId,
    pub events: Receiver<BridgeEvent>,
    window: Window,
}

impl BridgeLink {
    /// The reader's half: how much it may send.
    pub(crate) fn into_parts(self) -> (BridgeId, Receiver<BridgeEvent>, Window) {
        (self.id, self.events, self.window)
    }
}

/// A bridge reader's credit: host bytes it may have in flight to the
/// guest. Owned by the reader thread; the service thread moves the total
/// through its [`Credit`].
pub(crate) struct Window {
    /// The kernel's running total of host bytes taken (see [`WINDOW`]).
    consumed: Arc<AtomicU64>,
    /// Rings after `consumed` grows, for a reader waiting on the window.
    ring: Receiver<()>,
}

impl Window {
    /// Waits until a reader that has sent `sent` bytes may send more: less
    /// than [`WINDOW`] of them are beyond what the kernel took. `false`
    /// when the service's end is gone (the bridge is closed).
    pub(crate) fn wait_for_room(&self, sent: u64) -> bool {
        while sent - self.consumed() >= WINDOW {
            if self.ring.recv().is_err() {
                return false;
            }
        }
        true
    }

    pub(crate) fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Acquire)
    }
}

/// The service's end of a bridge's credit window, part of its
/// [`BridgeEnd`] and used on the service thread only: it stores the
/// kernel's running total of host bytes taken, then rings the reader.
/// The total only grows, so a reader that re-checks after a ring never
/// misses room.
pub(crate) struct Credit {
    consumed: Arc<AtomicU64>,
    ring: Sender<()>,
}

impl Credit {
    pub(crate) fn grant(&self, consumed: u64) {
        self.consumed.store(consumed, Ordering::Release);
        // One pending ring is enough: the reader re-checks the total.
        let _ = self.ring.try_send(());
    }
}

/// The service thread's end of a bridge's host side: where guest data and
/// credit go. Owned by the service thread from [`bridge_link`] until the
/// bridge closes ([`Msg::BridgeClose`]); dropping it ends the writer
/// thread's `events` and wakes a reader waiting for credit.
pub(crate) struct BridgeEnd {
    /// The writer thread (guest data that must wait, and end of stream).
    pub(crate) events: Sender<BridgeEvent>,
    /// The reader thread's permission to read more.
    pub(crate) credit: Credit,
    /// The host socket, written directly while it has room.
    pub(crate) direct: Option<UnixStream>,
}

impl BridgeEnd {
    /// Hands a chunk of guest data to the host: written to the host socket
    /// at once as far as it has room, the rest queued for the writer
    /// thread. `true` when it is all written (the kernel may hand out the
    /// next chunk now); `false` when the writer's [`Msg::BridgeAck`] will
    /// say so. The kernel sends nothing more until the chunk is acked, so a
    /// chunk left to the writer thread keeps its order.
    pub(crate) fn deliver(&self, mut data: Vec<u8>) -> bool {
        let sent = self.direct.as_ref().map_or(0, |s| send_now(s, &data));
        if sent == data.len() {
            return true;
        }
        data.drain(..sent);
        let _ = self.events.send(BridgeEvent::Data(data));
        false
    }
}

/// The two ends of a new bridge's host side.
pub(crate) fn bridge_link(id: BridgeId) -> (BridgeLink, BridgeEnd) {
    let (events_tx, events) = crossbeam_channel::unbounded();
    let (ring_tx, ring) = crossbeam_channel::bounded(1);
    let consumed = Arc::new(AtomicU64::new(0));
    let link = BridgeLink {
        id,
        events,
        window: Window {
            consumed: consumed.clone(),
            ring,
        },
    };
    let end = BridgeEnd {
        events: events_tx,
        credit: Credit {
            consumed,
            ring: ring_tx,
        },
        direct: None,
    };
    (link, end)
}

/// Writes what `stream` takes of `data` now, without blocking; returns how
/// much. Errors are left for the writer thread to meet.
fn send_now(stream: &UnixStream, mut data: &[u8]) -> usize {
    use rustix::io::Errno;
    use rustix::net::{send, SendFlags};
    let total = data.len();
    while !data.is_empty() {
        match send(stream, data, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
            Ok(n) => data = &data[n..],
            Err(Errno::INTR) => {}
            Err(_) => break,
        }
    }
    total - data.len()
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::Duration;

    use super::*;

    /// Host to guest: a reader may run [`WINDOW`] bytes ahead of the
    /// kernel, no more; a grant lets it go on.
    #[test]
    fn window_blocks_at_256_kib_beyond_consumed_and_opens_on_credit() {
        let (link, end) = bridge_link(1);
        let (_, _, window) = link.into_parts();
        assert!(window.wait_for_room(0));
        assert!(window.wait_for_room(WINDOW - 1));
        // A full window waits until the service grants credit.
        let waiter = std::thread::spawn(move || {
            let ok = window.wait_for_room(WINDOW + 10);
            (ok, window.consumed())
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "a full window must wait");
        // Credit that still leaves the window full does not release it.
        end.credit.grant(10);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "in flight is still WINDOW");
        end.credit.grant(11);
        assert_eq!(waiter.join().unwrap(), (true, 11));
    }

    #[test]
    fn window_wait_ends_when_the_service_end_is_dropped() {
        let (link, end) = bridge_link(1);
        let (_, _, window) = link.into_parts();
        let waiter = std::thread::spawn(move || window.wait_for_room(WINDOW));
        drop(end);
        assert!(!waiter.join().unwrap());
    }

    /// Guest to host: a chunk the host socket takes whole is done at once
    /// (no writer wakeup); what does not fit goes to the writer thread,
    /// after what was written, and the chunk waits for its ack.
    #[test]
    fn deliver_writes_directly_and_leaves_the_rest_to_the_writer() {
        let (link, mut end) = bridge_link(7);
        let (host, mut peer) = UnixStream::pair().unwrap();
        end.direct = Some(host);
        assert!(end.deliver(b"reply".to_vec()));
        let mut got = [0u8; 5];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"reply");
        assert!(link.events.try_recv().is_err(), "no writer wakeup");

        // More than a socket buffer holds: the rest is the writer's.
        let big: Vec<u8> = (0..8 << 20).map(|i| (i % 251) as u8).collect();
        assert!(!end.deliver(big.clone()));
        let Ok(BridgeEvent::Data(rest)) = link.events.try_recv() else {
            panic!("the remainder must go to the writer thread");
        };
        assert!(!rest.is_empty() && rest.len() < big.len());
        let mut direct = vec![0u8; big.len() - rest.len()];
        peer.read_exact(&mut direct).unwrap();
        direct.extend_from_slice(&rest);
        assert!(direct == big, "bytes must arrive whole and in order");

        // Without a host socket (a terminal), everything is the writer's.
        end.direct = None;
        assert!(!end.deliver(b"x".to_vec()));
        assert!(matches!(link.events.try_recv(), Ok(BridgeEvent::Data(d)) if d == b"x"));
    }
}
