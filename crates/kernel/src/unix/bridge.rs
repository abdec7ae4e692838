//! Bridges between a guest-side stream (an AF_UNIX stream socket, or a
//! terminal's master) and a host connection.
//!
//! The host side is outside the kernel: the runtime moves bytes between a
//! host socket and these calls. Each direction is flow-controlled. Host data
//! is queued here and fed to the guest side as it has room; each time
//! some moves, the host gets an [`Action::BridgeCredit`] with the running
//! total, and keeps at most a fixed window beyond that total in flight.
//! Guest data is handed out one chunk at a time ([`Action::BridgeData`]);
//! the next is read only after the host acknowledges the last. So neither
//! side can grow a buffer without bound, and nothing is dropped.
//!
//! [`Bridges`] knows nothing of processes: its methods are given the VFS,
//! the notifier and the file count they need, and return the actions the
//! runtime must see, in order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::addr::UnixAddr;
use super::socket::{Binding, SockType, UnixSocket};
use crate::action::Action;
pub use crate::action::BridgeId;
use crate::errno::{Errno, KResult};
use crate::file::{FileCharge, FileCount, FileDescription, FileType};
use crate::pty::endpoint::TerminalEndpoint;
use crate::vfs::Vfs;
use crate::wait::{Notifier, WaitKey};

/// Largest chunk handed to the host at once.
const CHUNK: usize = 64 * 1024;

/// The guest-side end a bridge pumps.
#[derive(Debug)]
pub enum Endpoint {
    /// A stream socket connected to a guest's socket.
    Socket(Arc<UnixSocket>),
    /// The master of the terminal a guest runs on (host terminal attach).
    Terminal(TerminalEndpoint),
}

impl Endpoint {
    /// Queues host bytes for the guest; `EAGAIN` when there is no room.
    fn send(&self, data: &[u8]) -> KResult<usize> {
        match self {
            Endpoint::Socket(s) => s.send_stream(data, Vec::new()),
            Endpoint::Terminal(t) => t.send(data),
        }
    }

    /// Guest bytes for the host; `Ok(empty)` is end of stream.
    fn recv(&self, len: usize) -> KResult<Vec<u8>> {
        match self {
            Endpoint::Socket(s) => s.recv_stream(len, false).map(|r| r.data),
            Endpoint::Terminal(t) => t.recv(len),
        }
    }

    /// The host will send no more.
    fn shutdown_write(&self) {
        if let Endpoint::Socket(s) = self {
            let _ = s.shutdown(1);
        }
    }

    fn wait_keys(&self) -> Vec<WaitKey> {
        match self {
            Endpoint::Socket(s) => s.wait_keys(),
            Endpoint::Terminal(t) => t.wait_keys(),
        }
    }
}

#[derive(Debug)]
struct Bridge {
    end: Endpoint,
    to_guest: VecDeque<u8>,
    /// Host bytes taken off `to_guest` so far.
    consumed: u64,
    host_eof: bool,
    shut_sent: bool,
    awaiting_ack: bool,
    guest_eof_sent: bool,
    /// The host connection is gone; the bridge lives on only until the
    /// guest has been handed the host bytes it had not read yet.
    host_gone: bool,
    /// A host connection holds a host fd and threads: it counts against
    /// the VM's `files` limit while it lasts.
    _charge: Option<FileCharge>,
}

/// A guest path whose connections are carried to a host socket.
#[derive(Debug)]
struct Outlet {
    listener: Arc<UnixSocket>,
    host: String,
    /// The guest path and what is bound there, to remove it at the end.
    path: String,
    binding: Arc<Binding>,
    /// Directories made for `path`, outermost first.
    made: Vec<String>,
}

/// Every bridge and `connect-out` outlet of a VM.
///
/// Invariant: a bridge hands the host at most one chunk until it is
/// acknowledged (`awaiting_ack`), and announces end of stream once.
#[derive(Debug, Default)]
pub struct Bridges {
    bridges: HashMap<BridgeId, Bridge>,
    outlets: Vec<Outlet>,
    next: BridgeId,
}

impl Bridges {
    /// Connects a new bridge to the guest listener at `path` (`expose`).
    pub fn connect(
        &mut self,
        vfs: &Vfs,
        files: &FileCount,
        notifier: &Notifier,
        path: &str,
    ) -> KResult<(BridgeId, Vec<Action>)> {
        let ep = vfs.lookup_socket("/", path)?;
        let target = ep
            .downcast_ref::<Binding>()
            .and_then(|b| b.socket.upgrade())
            .ok_or(Errno::ECONNREFUSED)?;
        // Refused, like a full listen queue, when the VM has `files` open.
        let charge = files.charge().map_err(|_| Errno::ECONNREFUSED)?;
        let sock = UnixSocket::new(SockType::Stream, 0, notifier);
        sock.connect_stream(&target, 0, notifier)?;
        Ok(self.add(Endpoint::Socket(sock), Some(charge)))
    }

    /// Registers a bridge for `end` and moves what it can at once.
    pub fn add(&mut self, end: Endpoint, charge: Option<FileCharge>) -> (BridgeId, Vec<Action>) {
        let id = self.register(end, charge);
        let mut actions = Vec::new();
        self.pump(id, &mut actions);
        (id, actions)
    }

    /// Registers a bridge without moving data yet.
    fn register(&mut self, end: Endpoint, charge: Option<FileCharge>) -> BridgeId {
        let id = self.next;
        self.next += 1;
        self.bridges.insert(
            id,
            Bridge {
                end,
                to_guest: VecDeque::new(),
                consumed: 0,
                host_eof: false,
                shut_sent: false,
                awaiting_ack: false,
                guest_eof_sent: false,
                host_gone: false,
                _charge: charge,
            },
        );
        id
    }

    /// The guest-side end of bridge `id`.
    pub fn endpoint(&self, id: BridgeId) -> Option<&Endpoint> {
        self.bridges.get(&id).map(|b| &b.end)
    }

    /// Makes `path` in the VM a socket whose connections go to the host
    /// socket `host` (`connect-out`), making its missing parent directories.
    /// Each accepted connection becomes a bridge announced with
    /// [`Action::BridgeOpen`]. [`Bridges::remove_outlets`] undoes this.
    pub fn add_outlet(
        &mut self,
        vfs: &Vfs,
        notifier: &Notifier,
        path: &str,
        host: String,
    ) -> KResult<()> {
        let listener = UnixSocket::new(SockType::Stream, 0, notifier);
        let binding = Arc::new(Binding {
            socket: Arc::downgrade(&listener),
        });
        let mut made = Vec::new();
        let parent = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut at = String::new();
        for part in parent.split('/').filter(|p| !p.is_empty()) {
            at.push('/');
            at.push_str(part);
            match vfs.mkdir("/", &at, 0o755) {
                Ok(()) => made.push(at.clone()),
                Err(Errno::EEXIST) => {}
                Err(e) => {
                    remove_dirs(vfs, &made);
                    return Err(e);
                }
            }
        }
        // A socket file left by an earlier run is stale; anything else stays.
        let bound = (|| {
            if let Ok(st) = vfs.stat("/", path, false) {
                if st.file_type == Some(FileType::SocketStream) {
                    vfs.unlink("/", path)?;
                }
            }
            vfs.bind_socket("/", path, binding.clone())
        })();
        if let Err(e) = bound {
            remove_dirs(vfs, &made);
            return Err(e);
        }
        listener.set_local_name(UnixAddr::Path(path.to_owned()));
        listener.listen(4095, 0)?;
        self.outlets.push(Outlet {
            listener,
            host,
            path: path.to_owned(),
            binding,
            made,
        });
        Ok(())
    }

    /// Removes the socket files of the `connect-out` outlets and the
    /// directories made for them, so a VM leaves nothing behind in its
    /// folders. A file or directory that is no longer what the outlet made
    /// (replaced, or holding other entries) stays.
    pub fn remove_outlets(&mut self, vfs: &Vfs) {
        for o in std::mem::take(&mut self.outlets) {
            let is_socket = vfs
                .stat("/", &o.path, false)
                .is_ok_and(|st| st.file_type == Some(FileType::SocketStream));
            let ours = is_socket
                && vfs.lookup_socket("/", &o.path).is_ok_and(|ep| {
                    ep.downcast_ref::<Binding>()
                        .is_some_and(|b| std::ptr::eq(b, Arc::as_ptr(&o.binding)))
                });
            if ours {
                let _ = vfs.unlink("/", &o.path);
            }
            remove_dirs(vfs, &o.made);
        }
    }

    /// Host bytes for the guest; `None` is the host's end of stream.
    pub fn from_host(&mut self, id: BridgeId, data: Option<Vec<u8>>) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(b) = self.bridges.get_mut(&id) else {
            return actions;
        };
        match data {
            Some(d) => b.to_guest.extend(d),
            None => b.host_eof = true,
        }
        self.pump(id, &mut actions);
        actions
    }

    /// The host has written the last chunk it was given.
    pub fn ack(&mut self, id: BridgeId) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(b) = self.bridges.get_mut(&id) {
            b.awaiting_ack = false;
            self.pump(id, &mut actions);
        }
        actions
    }

    /// Whether every bridge has handed all its guest data to the host. Once
    /// the guests are gone this becomes true as hosts read what is left.
    pub fn drained(&self) -> bool {
        self.bridges
            .values()
            .all(|b| b.guest_eof_sent && !b.awaiting_ack)
    }

    /// The host connection is gone: the guest sees its peer close, after
    /// the host bytes already taken for it (never dropped).
    pub fn close(&mut self, id: BridgeId) {
        let Some(b) = self.bridges.get_mut(&id) else {
            return;
        };
        b.host_gone = true;
        b.host_eof = true;
        // No host is left to credit or to hand guest data to.
        self.pump(id, &mut Vec::new());
    }

    /// Moves what it can in both directions.
    fn pump(&mut self, id: BridgeId, actions: &mut Vec<Action>) {
        let Some(b) = self.bridges.get_mut(&id) else {
            return;
        };
        let queued = b.to_guest.len();
        while !b.to_guest.is_empty() {
            let (front, _) = b.to_guest.as_slices();
            match b.end.send(front) {
                Ok(n) => drop(b.to_guest.drain(..n)),
                Err(Errno::EAGAIN) => break,
                Err(_) => {
                    // The guest stopped reading for good.
                    b.to_guest.clear();
                    break;
                }
            }
        }
        if b.to_guest.len() < queued {
            b.consumed += (queued - b.to_guest.len()) as u64;
            actions.push(Action::BridgeCredit {
                id,
                consumed: b.consumed,
            });
        }
        if b.to_guest.is_empty() && b.host_eof && !b.shut_sent {
            b.shut_sent = true;
            b.end.shutdown_write();
        }
        if b.host_gone {
            // What the guest still writes has nowhere to go; take it so
            // that the guest does not block on a peer that cannot read.
            while matches!(b.end.recv(CHUNK), Ok(d) if !d.is_empty()) {}
            if b.to_guest.is_empty() {
                self.bridges.remove(&id);
            }
            return;
        }
        if !b.awaiting_ack && !b.guest_eof_sent {
            match b.end.recv(CHUNK) {
                Ok(data) if data.is_empty() => {
                    b.guest_eof_sent = true;
                    actions.push(Action::BridgeEof { id });
                }
                Ok(data) => {
                    b.awaiting_ack = true;
                    actions.push(Action::BridgeData { id, data });
                }
                Err(Errno::EAGAIN) => {}
                Err(_) => {
                    b.guest_eof_sent = true;
                    actions.push(Action::BridgeEof { id });
                }
            }
        }
    }

    /// Pumps the bridges and outlets whose queues were notified. A new
    /// outlet connection counts against `files`.
    pub fn wake(&mut self, keys: &HashSet<WaitKey>, files: &FileCount) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut opened = Vec::new();
        for o in &self.outlets {
            if o.listener.wait_keys().iter().any(|k| keys.contains(k)) {
                while let Ok(sock) = o.listener.accept() {
                    opened.push((sock, o.host.clone()));
                }
            }
        }
        for (sock, host) in opened {
            // A host connection counts as an open file; beyond the VM's
            // limit the guest's connection is closed at once.
            let Ok(charge) = files.charge() else {
                tracing::warn!("connect-out to {host}: the VM has limits.files open; closed");
                continue;
            };
            // Announce the bridge before any of its data.
            let id = self.register(Endpoint::Socket(sock), Some(charge));
            actions.push(Action::BridgeOpen { id, host });
            self.pump(id, &mut actions);
        }
        let woken: Vec<BridgeId> = self
            .bridges
            .iter()
            .filter(|(_, b)| b.end.wait_keys().iter().any(|k| keys.contains(k)))
            .map(|(id, _)| *id)
            .collect();
        for id in woken {
            self.pump(id, &mut actions);
        }
        actions
    }
}

/// Removes `dirs` innermost first, stopping at one that is not empty.
fn remove_dirs(vfs: &Vfs, dirs: &[String]) {
    for d in dirs.iter().rev() {
        if vfs.rmdir("/", d).is_err() {
            break;
        }
    }
}
