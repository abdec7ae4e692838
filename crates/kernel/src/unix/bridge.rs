//! Bridges between a guest's AF_UNIX stream socket and a host connection.
//!
//! The host side is outside the kernel: the runtime moves bytes between a
//! host socket and these calls. Each direction is flow-controlled. Host data
//! is queued here and fed to the guest socket as it has room; each time
//! some moves, the host gets an [`Action::BridgeCredit`] with the running
//! total, and keeps at most a fixed window beyond that total in flight.
//! Guest data is handed out one chunk at a time ([`Action::BridgeData`]);
//! the next is read only after the host acknowledges the last. So neither
//! side can grow a buffer without bound, and nothing is dropped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::addr::UnixAddr;
use super::socket::{Binding, SockType, UnixSocket};
use crate::errno::{Errno, KResult};
use crate::file::FileDescription;
use crate::kernel::{Action, Kernel};
use crate::wait::WaitKey;

pub type BridgeId = u64;

/// Largest chunk handed to the host at once.
const CHUNK: usize = 64 * 1024;

/// The guest-side end a bridge pumps: a stream socket, or the master of
/// the PTY a guest runs on (host terminal attach).
#[derive(Debug)]
pub enum Endpoint {
    Socket(Arc<UnixSocket>),
    Terminal(Arc<crate::pty::device::PtyMaster>),
}

impl Endpoint {
    fn send(&self, data: &[u8]) -> KResult<usize> {
        match self {
            Endpoint::Socket(s) => s.send_stream(data, Vec::new()),
            Endpoint::Terminal(m) => m.write(data, false),
        }
    }

    /// `Ok(empty)` is end of stream; a terminal ends when its slave closes.
    fn recv(&self, len: usize) -> KResult<Vec<u8>> {
        match self {
            Endpoint::Socket(s) => s.recv_stream(len, false).map(|r| r.data),
            Endpoint::Terminal(m) => match m.read(len) {
                Err(Errno::EIO) => Ok(Vec::new()),
                r => r,
            },
        }
    }

    fn shutdown_write(&self) {
        if let Endpoint::Socket(s) = self {
            let _ = s.shutdown(1);
        }
    }

    fn wait_keys(&self) -> Vec<WaitKey> {
        match self {
            Endpoint::Socket(s) => s.wait_keys(),
            Endpoint::Terminal(m) => m.wait_keys(),
        }
    }
}

#[derive(Debug)]
struct Bridge {
    sock: Endpoint,
    to_guest: VecDeque<u8>,
    /// Host bytes taken off `to_guest` so far.
    consumed: u64,
    host_eof: bool,
    shut_sent: bool,
    awaiting_ack: bool,
    guest_eof_sent: bool,
    /// A host connection holds a host fd and threads: it counts against
    /// the VM's `files` limit while it lasts.
    charge: Option<crate::file::FileCharge>,
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

#[derive(Debug, Default)]
pub struct Bridges {
    bridges: HashMap<BridgeId, Bridge>,
    outlets: Vec<Outlet>,
    next: BridgeId,
}

impl Kernel {
    /// Connects a new bridge to the guest listener at `path` (`expose`).
    pub fn bridge_connect(&mut self, path: &str) -> KResult<BridgeId> {
        let ep = self.vfs.lookup_socket("/", path)?;
        let target = ep
            .downcast_ref::<Binding>()
            .and_then(|b| b.socket.upgrade())
            .ok_or(Errno::ECONNREFUSED)?;
        // Refused, like a full listen queue, when the VM has `files` open.
        let charge = self.files.charge().map_err(|_| Errno::ECONNREFUSED)?;
        let sock = UnixSocket::new(SockType::Stream, 0, &self.notifier);
        sock.connect_stream(&target, 0, &self.notifier)?;
        let id = self.add_bridge(Endpoint::Socket(sock));
        if let Some(b) = self.bridges.bridges.get_mut(&id) {
            b.charge = Some(charge);
        }
        Ok(id)
    }

    /// Bridges the master of a guest's terminal to the host.
    pub(crate) fn add_terminal_bridge(
        &mut self,
        master: Arc<crate::pty::device::PtyMaster>,
    ) -> BridgeId {
        self.add_bridge(Endpoint::Terminal(master))
    }

    /// Sets the window size of a terminal bridge (host SIGWINCH).
    pub fn bridge_resize(&mut self, id: BridgeId, size: crate::pty::termios::Winsize) {
        if let Some(Bridge {
            sock: Endpoint::Terminal(m),
            ..
        }) = self.bridges.bridges.get(&id)
        {
            m.0.set_winsize(size);
        }
        self.drain_tty_events();
    }

    fn add_bridge(&mut self, sock: Endpoint) -> BridgeId {
        let id = self.new_bridge(sock);
        self.pump_bridge(id);
        id
    }

    /// Registers a bridge without moving data yet.
    fn new_bridge(&mut self, sock: Endpoint) -> BridgeId {
        let id = self.bridges.next;
        self.bridges.next += 1;
        self.bridges.bridges.insert(
            id,
            Bridge {
                sock,
                to_guest: VecDeque::new(),
                consumed: 0,
                host_eof: false,
                shut_sent: false,
                awaiting_ack: false,
                guest_eof_sent: false,
                charge: None,
            },
        );
        id
    }

    /// Makes `path` in the VM a socket whose connections go to the host
    /// socket `host` (`connect-out`), making its missing parent directories.
    /// Each accepted connection becomes a bridge announced with
    /// [`Action::BridgeOpen`]. [`Kernel::remove_outlets`] undoes this.
    pub fn add_outlet(&mut self, path: &str, host: String) -> KResult<()> {
        let listener = UnixSocket::new(SockType::Stream, 0, &self.notifier);
        let binding = Arc::new(Binding {
            socket: Arc::downgrade(&listener),
        });
        let mut made = Vec::new();
        let parent = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut at = String::new();
        for part in parent.split('/').filter(|p| !p.is_empty()) {
            at.push('/');
            at.push_str(part);
            match self.vfs.mkdir("/", &at, 0o755) {
                Ok(()) => made.push(at.clone()),
                Err(Errno::EEXIST) => {}
                Err(e) => {
                    self.remove_dirs(&made);
                    return Err(e);
                }
            }
        }
        // A socket file left by an earlier run is stale; anything else stays.
        let bound = (|| {
            if let Ok(st) = self.vfs.stat("/", path, false) {
                if st.file_type == Some(crate::file::FileType::SocketStream) {
                    self.vfs.unlink("/", path)?;
                }
            }
            self.vfs.bind_socket("/", path, binding.clone())
        })();
        if let Err(e) = bound {
            self.remove_dirs(&made);
            return Err(e);
        }
        listener.set_local_name(UnixAddr::Path(path.to_owned()));
        listener.listen(4095, 0)?;
        self.bridges.outlets.push(Outlet {
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
    pub fn remove_outlets(&mut self) {
        for o in std::mem::take(&mut self.bridges.outlets) {
            let is_socket = self
                .vfs
                .stat("/", &o.path, false)
                .is_ok_and(|st| st.file_type == Some(crate::file::FileType::SocketStream));
            let ours = is_socket
                && self.vfs.lookup_socket("/", &o.path).is_ok_and(|ep| {
                    ep.downcast_ref::<Binding>()
                        .is_some_and(|b| std::ptr::eq(b, Arc::as_ptr(&o.binding)))
                });
            if ours {
                let _ = self.vfs.unlink("/", &o.path);
            }
            self.remove_dirs(&o.made);
        }
    }

    /// Removes `dirs` innermost first, stopping at one that is not empty.
    fn remove_dirs(&self, dirs: &[String]) {
        for d in dirs.iter().rev() {
            if self.vfs.rmdir("/", d).is_err() {
                break;
            }
        }
    }

    /// Host bytes for the guest; `None` is the host's end of stream.
    pub fn bridge_from_host(&mut self, id: BridgeId, data: Option<Vec<u8>>) {
        let Some(b) = self.bridges.bridges.get_mut(&id) else {
            return;
        };
        match data {
            Some(d) => b.to_guest.extend(d),
            None => b.host_eof = true,
        }
        self.pump_bridge(id);
    }

    /// The host has written the last chunk it was given.
    pub fn bridge_ack(&mut self, id: BridgeId) {
        if let Some(b) = self.bridges.bridges.get_mut(&id) {
            b.awaiting_ack = false;
            self.pump_bridge(id);
        }
    }

    /// Whether every bridge has handed all its guest data to the host. Once
    /// the guests are gone this becomes true as hosts read what is left.
    pub fn bridges_drained(&self) -> bool {
        self.bridges
            .bridges
            .values()
            .all(|b| b.guest_eof_sent && !b.awaiting_ack)
    }

    /// The host connection is gone: the guest sees its peer close.
    pub fn bridge_close(&mut self, id: BridgeId) {
        self.bridges.bridges.remove(&id);
    }

    /// Moves what it can in both directions.
    fn pump_bridge(&mut self, id: BridgeId) {
        let Some(b) = self.bridges.bridges.get_mut(&id) else {
            return;
        };
        let queued = b.to_guest.len();
        while !b.to_guest.is_empty() {
            let (front, _) = b.to_guest.as_slices();
            match b.sock.send(front) {
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
            self.actions.push(Action::BridgeCredit {
                id,
                consumed: b.consumed,
            });
        }
        if b.to_guest.is_empty() && b.host_eof && !b.shut_sent {
            b.shut_sent = true;
            b.sock.shutdown_write();
        }
        if !b.awaiting_ack && !b.guest_eof_sent {
            match b.sock.recv(CHUNK) {
                Ok(data) if data.is_empty() => {
                    b.guest_eof_sent = true;
                    self.actions.push(Action::BridgeEof { id });
                }
                Ok(data) => {
                    b.awaiting_ack = true;
                    self.actions.push(Action::BridgeData { id, data });
                }
                Err(Errno::EAGAIN) => {}
                Err(_) => {
                    b.guest_eof_sent = true;
                    self.actions.push(Action::BridgeEof { id });
                }
            }
        }
    }

    /// Pumps the bridges and outlets whose queues were notified.
    pub(crate) fn wake_bridges(&mut self, keys: &HashSet<WaitKey>) {
        let mut opened = Vec::new();
        for o in &self.bridges.outlets {
            if o.listener.wait_keys().iter().any(|k| keys.contains(k)) {
                while let Ok(sock) = o.listener.accept() {
                    opened.push((sock, o.host.clone()));
                }
            }
        }
        for (sock, host) in opened {
            // A host connection counts as an open file; beyond the VM's
            // limit the guest's connection is closed at once.
            let Ok(charge) = self.files.charge() else {
                tracing::warn!("connect-out to {host}: the VM has limits.files open; closed");
                continue;
            };
            // Announce the bridge before any of its data.
            let id = self.new_bridge(Endpoint::Socket(sock));
            if let Some(b) = self.bridges.bridges.get_mut(&id) {
                b.charge = Some(charge);
            }
            self.actions.push(Action::BridgeOpen { id, host });
            self.pump_bridge(id);
        }
        let woken: Vec<BridgeId> = self
            .bridges
            .bridges
            .iter()
            .filter(|(_, b)| b.sock.wait_keys().iter().any(|k| keys.contains(k)))
            .map(|(id, _)| *id)
            .collect();
        for id in woken {
            self.pump_bridge(id);
        }
    }
}
