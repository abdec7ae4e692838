//! AF_UNIX stream and datagram sockets, after Linux's `af_unix`.
//!
//! A stream connection is a [`Connection`]: two byte queues, one per
//! direction, each holding segments so that SCM_RIGHTS fds stay attached to
//! the byte they were sent with. Side `i` reads `rx[i]` and writes
//! `rx[1 - i]`. A datagram socket owns its receive queue; senders push
//! whole messages into it.
//!
//! Buffers are bounded by the sender's `SO_SNDBUF` (streams) or the
//! receiver's `SO_RCVBUF` (datagrams): a full buffer is `EAGAIN`, which the
//! syscall layer turns into blocking. Nothing is dropped.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use sidecar_abi::consts::shut::{SHUT_RD, SHUT_RDWR, SHUT_WR};

use super::addr::UnixAddr;
use crate::errno::{Errno, KResult};
use crate::file::{poll, FileDescription, FileType, OpenFile, Stat};
use crate::process::Pid;
use crate::wait::{Notifier, WaitKey, WaitQueue};

/// Linux's `net.core.wmem_default`/`rmem_default`.
pub const DEFAULT_BUF: usize = 212_992;
/// Linux's floor for SO_SNDBUF/SO_RCVBUF (`SOCK_MIN_SNDBUF`).
pub const MIN_BUF: usize = 4608;
/// Linux's `net.core.wmem_max`; setsockopt clamps to it before doubling.
pub const MAX_BUF: usize = 212_992;
/// Datagrams a receive queue holds before senders wait (`max_dgram_qlen`).
pub const MAX_DGRAM_QLEN: usize = 512;

const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;
const SHUTDOWN_MASK: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockType {
    Stream,
    Dgram,
}

/// One queued send: bytes, the fds that travel with their first byte, and
/// (datagrams) the sender's name.
#[derive(Debug)]
struct Seg {
    data: Vec<u8>,
    off: usize,
    fds: Vec<Arc<OpenFile>>,
    from: UnixAddr,
}

impl Seg {
    fn remaining(&self) -> usize {
        self.data.len() - self.off
    }
}

#[derive(Debug, Default)]
struct Queue {
    segs: VecDeque<Seg>,
    bytes: usize,
}

impl Queue {
    fn push(&mut self, seg: Seg) {
        self.bytes += seg.remaining();
        self.segs.push_back(seg);
    }
}

#[derive(Debug)]
struct ConnState {
    rx: [Queue; 2],
    /// Each side's shutdown bits, as Linux keeps them per socket.
    shutdown: [u8; 2],
    /// A pending error each side reports once (ECONNRESET).
    err: [Option<Errno>; 2],
    /// Credentials (pid) of each side.
    cred: [Pid; 2],
    /// Each side's own name.
    names: [UnixAddr; 2],
    /// A server side still in the listener's backlog.
    embryo: bool,
}

/// Both ends of a stream connection.
#[derive(Debug)]
pub struct Connection {
    state: Mutex<ConnState>,
    /// The two sockets' own queues; any change notifies both.
    queues: [WaitQueue; 2],
}

impl Connection {
    fn notify(&self) {
        self.queues[0].notify();
        self.queues[1].notify();
    }
}

#[derive(Debug)]
struct Listener {
    backlog: usize,
    pending: VecDeque<Arc<UnixSocket>>,
    cred: Pid,
}

#[derive(Debug)]
enum State {
    /// A stream socket that is neither listening nor connected.
    Idle,
    Listening(Listener),
    Connected {
        conn: Arc<Connection>,
        side: usize,
    },
    Dgram {
        rx: Queue,
        peer: Option<Weak<UnixSocket>>,
        shutdown: u8,
        err: Option<Errno>,
    },
}

#[derive(Debug)]
struct Inner {
    local: UnixAddr,
    state: State,
    sndbuf: usize,
    rcvbuf: usize,
    /// Pid of the process that created the socket.
    owner: Pid,
}

/// What a bound name refers to; the VFS or the abstract namespace holds it.
#[derive(Debug)]
pub struct Binding {
    pub socket: Weak<UnixSocket>,
}

/// The result of one receive.
#[derive(Debug, Default)]
pub struct Received {
    pub data: Vec<u8>,
    pub fds: Vec<Arc<OpenFile>>,
    pub from: Option<UnixAddr>,
    /// The datagram was longer than the buffer (MSG_TRUNC).
    pub truncated: bool,
    /// The datagram's real length.
    pub full_len: usize,
}

/// An AF_UNIX socket: the description behind a socket fd.
///
/// Invariants: a datagram socket is always in its datagram state; a stream
/// socket only moves from idle to listening or to connected, never back. A
/// queued byte stays with the fds sent along with it.
///
/// Lock order: a socket's `inner`, then its connection's `state`, then the
/// notifier. No code holds two sockets' `inner` at once (a datagram peer is
/// looked at unlocked, since it may be the socket itself).
#[derive(Debug)]
pub struct UnixSocket {
    ty: SockType,
    wq: WaitQueue,
    ino: u64,
    inner: Mutex<Inner>,
}

fn next_ino() -> u64 {
    static INO: AtomicU64 = AtomicU64::new(1);
    INO.fetch_add(1, Ordering::Relaxed)
}

impl UnixSocket {
    pub fn new(ty: SockType, owner: Pid, notifier: &Notifier) -> Arc<UnixSocket> {
        let state = match ty {
            SockType::Stream => State::Idle,
            SockType::Dgram => State::Dgram {
                rx: Queue::default(),
                peer: None,
                shutdown: 0,
                err: None,
            },
        };
        Arc::new(UnixSocket {
            ty,
            wq: WaitQueue::new(notifier),
            ino: next_ino(),
            inner: Mutex::new(Inner {
                local: UnixAddr::Unnamed,
                state,
                sndbuf: DEFAULT_BUF,
                rcvbuf: DEFAULT_BUF,
                owner,
            }),
        })
    }

    /// Two connected sockets (`socketpair`).
    pub fn pair(
        ty: SockType,
        owner: Pid,
        notifier: &Notifier,
    ) -> (Arc<UnixSocket>, Arc<UnixSocket>) {
        let a = UnixSocket::new(ty, owner, notifier);
        let b = UnixSocket::new(ty, owner, notifier);
        match ty {
            SockType::Stream => {
                let conn = Connection::new(
                    &a,
                    &b,
                    [owner, owner],
                    [UnixAddr::Unnamed, UnixAddr::Unnamed],
                );
                a.inner().state = State::Connected {
                    conn: conn.clone(),
                    side: 0,
                };
                b.inner().state = State::Connected { conn, side: 1 };
            }
            SockType::Dgram => {
                a.set_dgram_peer(Arc::downgrade(&b));
                b.set_dgram_peer(Arc::downgrade(&a));
            }
        }
        (a, b)
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    pub fn sock_type(&self) -> SockType {
        self.ty
    }

    pub fn local_name(&self) -> UnixAddr {
        self.inner().local.clone()
    }

    pub fn is_bound(&self) -> bool {
        self.inner().local != UnixAddr::Unnamed
    }

    pub fn set_local_name(&self, name: UnixAddr) {
        self.inner().local = name;
    }

    fn set_dgram_peer(&self, peer: Weak<UnixSocket>) {
        if let State::Dgram { peer: p, .. } = &mut self.inner().state {
            *p = Some(peer);
        }
    }

    pub fn peer_name(&self) -> KResult<UnixAddr> {
        let peer = match &self.inner().state {
            State::Connected { conn, side } => {
                return Ok(conn.state.lock().unwrap().names[1 - side].clone())
            }
            State::Dgram { peer: Some(p), .. } => p.clone(),
            _ => return Err(Errno::ENOTCONN),
        };
        // Unlocked: a datagram socket may be connected to itself.
        peer.upgrade()
            .map(|p| p.local_name())
            .ok_or(Errno::ENOTCONN)
    }

    /// `(pid, uid, gid)` of the peer, as SO_PEERCRED reports.
    pub fn peer_cred(&self) -> (Pid, u32, u32) {
        let peer = match &self.inner().state {
            State::Connected { conn, side } => {
                return (conn.state.lock().unwrap().cred[1 - side], 0, 0)
            }
            State::Dgram { peer: Some(p), .. } => p.clone(),
            _ => return (0, 65534, 65534),
        };
        // Unlocked: a datagram socket may be connected to itself.
        match peer.upgrade() {
            Some(p) => (p.inner().owner, 0, 0),
            None => (0, 65534, 65534),
        }
    }

    pub fn sndbuf(&self) -> usize {
        self.inner().sndbuf
    }

    pub fn rcvbuf(&self) -> usize {
        self.inner().rcvbuf
    }

    /// Sets a buffer size the way Linux does: clamped, then doubled.
    pub fn set_buf(&self, send: bool, val: usize) {
        let v = (val.min(MAX_BUF) * 2).max(MIN_BUF);
        let mut i = self.inner();
        if send {
            i.sndbuf = v;
        } else {
            i.rcvbuf = v;
        }
        drop(i);
        self.wq.notify();
    }

    pub fn is_listening(&self) -> bool {
        matches!(self.inner().state, State::Listening(_))
    }

    /// Takes the pending error (SO_ERROR).
    pub fn take_error(&self) -> Option<Errno> {
        match &mut self.inner().state {
            State::Connected { conn, side } => conn.state.lock().unwrap().err[*side].take(),
            State::Dgram { err, .. } => err.take(),
            _ => None,
        }
    }

    pub fn listen(&self, backlog: i32, pid: Pid) -> KResult<()> {
        if self.ty != SockType::Stream {
            return Err(Errno::EOPNOTSUPP);
        }
        let backlog = backlog.clamp(0, 4095) as usize + 1;
        let mut i = self.inner();
        if i.local == UnixAddr::Unnamed {
            return Err(Errno::EINVAL);
        }
        match &mut i.state {
            State::Idle => {
                i.state = State::Listening(Listener {
                    backlog,
                    pending: VecDeque::new(),
                    cred: pid,
                });
                Ok(())
            }
            State::Listening(l) => {
                // Room in a longer backlog wakes blocked connects (Linux).
                if backlog > l.backlog {
                    self.wq.notify();
                }
                l.backlog = backlog;
                Ok(())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// Takes one pending connection; `EAGAIN` if none.
    pub fn accept(&self) -> KResult<Arc<UnixSocket>> {
        let mut i = self.inner();
        let State::Listening(l) = &mut i.state else {
            return Err(Errno::EINVAL);
        };
        let s = l.pending.pop_front().ok_or(Errno::EAGAIN)?;
        drop(i);
        if let State::Connected { conn, .. } = &s.inner().state {
            conn.state.lock().unwrap().embryo = false;
        }
        self.wq.notify();
        Ok(s)
    }

    /// Connects stream socket `self` to listener `target`. `EAGAIN` while
    /// the backlog is full.
    pub fn connect_stream(
        self: &Arc<Self>,
        target: &Arc<UnixSocket>,
        pid: Pid,
        notifier: &Notifier,
    ) -> KResult<()> {
        if target.ty != self.ty {
            return Err(Errno::EPROTOTYPE);
        }
        match self.inner().state {
            State::Idle => {}
            State::Connected { .. } => return Err(Errno::EISCONN),
            _ => return Err(Errno::EINVAL),
        }
        let (server_name, listener_cred) = {
            let t = target.inner();
            let State::Listening(l) = &t.state else {
                return Err(Errno::ECONNREFUSED);
            };
            if l.pending.len() >= l.backlog {
                return Err(Errno::EAGAIN);
            }
            (t.local.clone(), l.cred)
        };
        let server = UnixSocket::new(SockType::Stream, target.inner().owner, notifier);
        server.inner().local = server_name.clone();
        let client_name = self.local_name();
        let conn = Connection::new(
            self,
            &server,
            [pid, listener_cred],
            [client_name, server_name],
        );
        conn.state.lock().unwrap().embryo = true;
        self.inner().state = State::Connected {
            conn: conn.clone(),
            side: 0,
        };
        server.inner().state = State::Connected { conn, side: 1 };
        if let State::Listening(l) = &mut target.inner().state {
            l.pending.push_back(server);
        }
        target.wq.notify();
        self.wq.notify();
        Ok(())
    }

    /// Sets the default peer of a datagram socket.
    pub fn connect_dgram(&self, target: &Arc<UnixSocket>) -> KResult<()> {
        if target.ty != SockType::Dgram {
            return Err(Errno::EPROTOTYPE);
        }
        self.set_dgram_peer(Arc::downgrade(target));
        Ok(())
    }

    /// Queues what fits of `data`; the fds travel with its first byte.
    /// `EAGAIN` when nothing fits, `EPIPE` once sending is shut down.
    pub fn send_stream(&self, data: &[u8], fds: Vec<Arc<OpenFile>>) -> KResult<usize> {
        let i = self.inner();
        let sndbuf = i.sndbuf;
        let State::Connected { conn, side } = &i.state else {
            return Err(match i.state {
                State::Listening(_) | State::Idle => Errno::ENOTCONN,
                _ => Errno::EOPNOTSUPP,
            });
        };
        let (conn, side) = (conn.clone(), *side);
        drop(i);
        let mut st = conn.state.lock().unwrap();
        if st.shutdown[side] & SEND_SHUTDOWN != 0 || st.shutdown[1 - side] & RCV_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        let queued = st.rx[1 - side].bytes;
        let room = sndbuf.saturating_sub(queued);
        if room == 0 && !data.is_empty() {
            return Err(Errno::EAGAIN);
        }
        let n = room.min(data.len());
        if n == 0 && fds.is_empty() {
            return Ok(0);
        }
        st.rx[1 - side].push(Seg {
            data: data[..n].to_vec(),
            off: 0,
            fds,
            from: UnixAddr::Unnamed,
        });
        drop(st);
        conn.notify();
        Ok(n)
    }

    /// Reads up to `len` bytes. `Ok` with no data is end of file.
    pub fn recv_stream(&self, len: usize, peek: bool) -> KResult<Received> {
        let i = self.inner();
        let State::Connected { conn, side } = &i.state else {
            return Err(Errno::EINVAL);
        };
        let (conn, side) = (conn.clone(), *side);
        drop(i);
        let mut st = conn.state.lock().unwrap();
        if st.rx[side].segs.is_empty() {
            if let Some(e) = st.err[side].take() {
                return Err(e);
            }
            if st.shutdown[side] & RCV_SHUTDOWN != 0 {
                return Ok(Received::default());
            }
            return Err(Errno::EAGAIN);
        }
        let mut out = Received::default();
        let q = &mut st.rx[side];
        let mut idx = 0;
        // Like Linux: plain data glues together, and a segment that carries
        // fds ends the read once it has been taken.
        while out.data.len() < len && idx < q.segs.len() {
            let seg = &mut q.segs[idx];
            let had_fds = !seg.fds.is_empty();
            if peek {
                out.fds.extend(seg.fds.iter().cloned());
            } else {
                out.fds.append(&mut seg.fds);
            }
            let take = (len - out.data.len()).min(seg.remaining());
            out.data
                .extend_from_slice(&seg.data[seg.off..seg.off + take]);
            if peek {
                idx += 1;
            } else {
                seg.off += take;
                q.bytes -= take;
                if seg.remaining() > 0 {
                    break;
                }
                q.segs.pop_front();
            }
            if had_fds {
                break;
            }
        }
        drop(st);
        if !peek {
            conn.notify();
        }
        Ok(out)
    }

    /// Queues one datagram on `target` (or the connected peer).
    pub fn send_dgram(
        &self,
        data: &[u8],
        fds: Vec<Arc<OpenFile>>,
        target: Option<Arc<UnixSocket>>,
    ) -> KResult<usize> {
        let (target, from, sndbuf) = {
            let i = self.inner();
            let State::Dgram { peer, shutdown, .. } = &i.state else {
                return Err(Errno::EOPNOTSUPP);
            };
            if shutdown & SEND_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            let target = match target {
                Some(t) => t,
                None => match peer {
                    Some(p) => p.upgrade().ok_or(Errno::ECONNREFUSED)?,
                    None => return Err(Errno::ENOTCONN),
                },
            };
            (target, i.local.clone(), i.sndbuf)
        };
        if data.len() > sndbuf {
            return Err(Errno::EMSGSIZE);
        }
        if target.ty != SockType::Dgram {
            return Err(Errno::EPROTOTYPE);
        }
        let mut t = target.inner();
        let rcvbuf = t.rcvbuf;
        let State::Dgram { rx, shutdown, .. } = &mut t.state else {
            return Err(Errno::EPROTOTYPE);
        };
        if *shutdown & RCV_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        if !rx.segs.is_empty()
            && (rx.bytes + data.len() > rcvbuf || rx.segs.len() >= MAX_DGRAM_QLEN)
        {
            return Err(Errno::EAGAIN);
        }
        rx.push(Seg {
            data: data.to_vec(),
            off: 0,
            fds,
            from,
        });
        drop(t);
        target.wq.notify();
        Ok(data.len())
    }

    /// Takes one datagram (the first `len` bytes of it).
    pub fn recv_dgram(&self, len: usize, peek: bool) -> KResult<Received> {
        let mut i = self.inner();
        let State::Dgram {
            rx, shutdown, err, ..
        } = &mut i.state
        else {
            return Err(Errno::EOPNOTSUPP);
        };
        let Some(seg) = rx.segs.front_mut() else {
            if let Some(e) = err.take() {
                return Err(e);
            }
            return if *shutdown & RCV_SHUTDOWN != 0 {
                Ok(Received::default())
            } else {
                Err(Errno::EAGAIN)
            };
        };
        let n = len.min(seg.data.len());
        let out = Received {
            data: seg.data[..n].to_vec(),
            fds: if peek {
                seg.fds.clone()
            } else {
                std::mem::take(&mut seg.fds)
            },
            from: Some(seg.from.clone()),
            truncated: seg.data.len() > len,
            full_len: seg.data.len(),
        };
        if !peek {
            let seg = rx.segs.pop_front().unwrap();
            rx.bytes -= seg.data.len();
        }
        drop(i);
        // Room for blocked senders.
        self.wq.notify();
        Ok(out)
    }

    pub fn shutdown(&self, how: i32) -> KResult<()> {
        let (mine, theirs) = match how {
            SHUT_RD => (RCV_SHUTDOWN, SEND_SHUTDOWN),
            SHUT_WR => (SEND_SHUTDOWN, RCV_SHUTDOWN),
            SHUT_RDWR => (SHUTDOWN_MASK, SHUTDOWN_MASK),
            _ => return Err(Errno::EINVAL),
        };
        let mut i = self.inner();
        match &mut i.state {
            State::Connected { conn, side } => {
                let mut st = conn.state.lock().unwrap();
                st.shutdown[*side] |= mine;
                st.shutdown[1 - *side] |= theirs;
                drop(st);
                conn.notify();
                Ok(())
            }
            State::Dgram { shutdown, .. } => {
                *shutdown |= mine;
                drop(i);
                self.wq.notify();
                Ok(())
            }
            // Linux accepts it; with no peer there is nothing to tell.
            State::Idle | State::Listening(_) => Ok(()),
        }
    }
}

impl Connection {
    fn new(
        a: &UnixSocket,
        b: &UnixSocket,
        cred: [Pid; 2],
        names: [UnixAddr; 2],
    ) -> Arc<Connection> {
        Arc::new(Connection {
            state: Mutex::new(ConnState {
                rx: [Queue::default(), Queue::default()],
                shutdown: [0, 0],
                err: [None, None],
                cred,
                names,
                embryo: false,
            }),
            queues: [a.wq.clone(), b.wq.clone()],
        })
    }
}

impl FileDescription for UnixSocket {
    fn file_type(&self) -> FileType {
        match self.ty {
            SockType::Stream => FileType::SocketStream,
            SockType::Dgram => FileType::SocketDgram,
        }
    }

    /// `read(2)`: a receive without ancillary data; fds that arrive this
    /// way are closed, as on Linux.
    fn read(&self, len: usize) -> KResult<Vec<u8>> {
        let r = match self.ty {
            SockType::Stream => self.recv_stream(len, false)?,
            SockType::Dgram => self.recv_dgram(len, false)?,
        };
        Ok(r.data)
    }

    fn write(&self, data: &[u8], _append: bool) -> KResult<usize> {
        match self.ty {
            SockType::Stream => self.send_stream(data, Vec::new()),
            SockType::Dgram => self.send_dgram(data, Vec::new(), None),
        }
    }

    fn stat(&self) -> KResult<Stat> {
        let now = crate::file::now_ns();
        Ok(Stat {
            dev: 0x534f_434b,
            ino: self.ino,
            file_type: Some(self.file_type()),
            mode: 0o777,
            nlink: 1,
            size: 0,
            atime: now,
            mtime: now,
            ctime: now,
        })
    }

    /// Linux's `unix_poll` / `unix_dgram_poll`.
    fn poll(&self) -> u16 {
        use poll::*;
        let i = self.inner();
        match &i.state {
            State::Idle => POLLOUT | POLLHUP,
            State::Listening(l) => {
                if l.pending.is_empty() {
                    0
                } else {
                    POLLIN
                }
            }
            State::Connected { conn, side } => {
                let st = conn.state.lock().unwrap();
                let mut m = 0;
                if st.err[*side].is_some() {
                    m |= POLLERR;
                }
                if st.shutdown[*side] == SHUTDOWN_MASK {
                    m |= POLLHUP;
                }
                if st.shutdown[*side] & RCV_SHUTDOWN != 0 {
                    m |= POLLRDHUP | POLLIN;
                }
                if !st.rx[*side].segs.is_empty() {
                    m |= POLLIN;
                }
                // Linux: writable while at most a quarter of sndbuf is queued.
                if st.rx[1 - side].bytes * 4 <= i.sndbuf {
                    m |= POLLOUT;
                }
                m
            }
            State::Dgram {
                rx,
                shutdown,
                err,
                peer,
            } => {
                let mut m = 0;
                if err.is_some() {
                    m |= POLLERR;
                }
                if *shutdown == SHUTDOWN_MASK {
                    m |= POLLHUP;
                }
                if *shutdown & RCV_SHUTDOWN != 0 {
                    m |= POLLRDHUP | POLLIN;
                }
                if !rx.segs.is_empty() {
                    m |= POLLIN;
                }
                // Unlocked: a datagram socket may be connected to itself.
                let peer = peer.as_ref().and_then(Weak::upgrade);
                drop(i);
                let peer_full = peer.is_some_and(|p| {
                    let pi = p.inner();
                    match &pi.state {
                        State::Dgram { rx, .. } => {
                            rx.bytes >= pi.rcvbuf || rx.segs.len() >= MAX_DGRAM_QLEN
                        }
                        _ => false,
                    }
                });
                if !peer_full {
                    m |= POLLOUT;
                }
                m
            }
        }
    }

    fn wait_keys(&self) -> Vec<WaitKey> {
        let mut keys = vec![self.wq.key()];
        // A datagram sender waits for room in its peer's queue.
        if let State::Dgram { peer: Some(p), .. } = &self.inner().state {
            if let Some(p) = p.upgrade() {
                keys.push(p.wq.key());
            }
        }
        keys
    }

    fn bytes_readable(&self) -> KResult<usize> {
        match &self.inner().state {
            State::Connected { conn, side } => Ok(conn.state.lock().unwrap().rx[*side].bytes),
            State::Dgram { rx, .. } => Ok(rx.segs.front().map(|s| s.data.len()).unwrap_or(0)),
            State::Idle => Ok(0),
            State::Listening(_) => Err(Errno::EINVAL),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let state = std::mem::replace(&mut self.inner.get_mut().unwrap().state, State::Idle);
        match state {
            State::Connected { conn, side } => {
                let mut st = conn.state.lock().unwrap();
                // Unread data, or a connection never accepted: the peer sees
                // ECONNRESET (Linux's unix_release_sock).
                if !st.rx[side].segs.is_empty() || (st.embryo && side == 1) {
                    st.err[1 - side] = Some(Errno::ECONNRESET);
                }
                // Fds in the unread data may hold the last reference to a
                // socket of this same connection, whose drop takes `state`:
                // release them only after unlocking.
                let unread = std::mem::take(&mut st.rx[side]);
                st.shutdown[1 - side] = SHUTDOWN_MASK;
                st.shutdown[side] = SHUTDOWN_MASK;
                drop(st);
                conn.notify();
                drop(unread);
            }
            // Pending connections die with the listener (their drop resets
            // the clients).
            State::Listening(l) => drop(l),
            _ => {}
        }
        self.wq.notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::poll::*;

    fn n() -> Notifier {
        Notifier::new()
    }

    #[test]
    fn pair_echo_shutdown_and_close() {
        let (a, b) = UnixSocket::pair(SockType::Stream, 1, &n());
        assert_eq!(a.poll(), POLLOUT);
        assert_eq!(a.send_stream(b"ping", vec![]).unwrap(), 4);
        assert_eq!(b.poll(), POLLIN | POLLOUT);
        assert_eq!(b.recv_stream(10, false).unwrap().data, b"ping");
        assert_eq!(b.recv_stream(10, false).unwrap_err(), Errno::EAGAIN);
        a.shutdown(SHUT_WR).unwrap();
        assert_eq!(a.send_stream(b"x", vec![]).unwrap_err(), Errno::EPIPE);
        assert!(b.recv_stream(10, false).unwrap().data.is_empty());
        assert_eq!(b.poll(), POLLIN | POLLRDHUP | POLLOUT);
        b.send_stream(b"back", vec![]).unwrap();
        assert_eq!(a.recv_stream(10, false).unwrap().data, b"back");
        drop(a);
        assert_eq!(b.poll(), POLLIN | POLLRDHUP | POLLOUT | POLLHUP);
        assert_eq!(b.send_stream(b"x", vec![]).unwrap_err(), Errno::EPIPE);
    }

    #[test]
    fn close_with_unread_data_resets_the_peer() {
        let (a, b) = UnixSocket::pair(SockType::Stream, 1, &n());
        a.send_stream(b"unread", vec![]).unwrap();
        drop(b);
        assert_ne!(a.poll() & POLLERR, 0);
        assert_eq!(a.recv_stream(10, false).unwrap_err(), Errno::ECONNRESET);
        assert!(a.recv_stream(10, false).unwrap().data.is_empty());
    }

    #[test]
    fn full_buffer_is_eagain_and_loses_nothing() {
        let (a, b) = UnixSocket::pair(SockType::Stream, 1, &n());
        let chunk = vec![9u8; 100_000];
        let mut sent = 0;
        loop {
            match a.send_stream(&chunk, vec![]) {
                Ok(k) => sent += k,
                Err(e) => {
                    assert_eq!(e, Errno::EAGAIN);
                    break;
                }
            }
        }
        assert_eq!(sent, DEFAULT_BUF);
        assert_eq!(a.poll() & POLLOUT, 0);
        let mut got = 0;
        while let Ok(r) = b.recv_stream(65536, false) {
            got += r.data.len();
        }
        assert_eq!(got, sent);
    }

    #[test]
    fn a_read_ends_after_the_segment_with_fds() {
        let notifier = n();
        let (a, b) = UnixSocket::pair(SockType::Stream, 1, &notifier);
        let (r, _w) = crate::pipe::pipe(&notifier);
        a.send_stream(b"plain", vec![]).unwrap();
        a.send_stream(b"fd", vec![r.clone()]).unwrap();
        a.send_stream(b"after", vec![]).unwrap();
        let first = b.recv_stream(100, false).unwrap();
        assert_eq!(first.data, b"plainfd");
        assert_eq!(first.fds.len(), 1);
        let second = b.recv_stream(100, false).unwrap();
        assert_eq!(second.data, b"after");
        assert!(second.fds.is_empty());
    }

    #[test]
    fn listener_backlog_accept_and_refusal() {
        let notifier = n();
        let l = UnixSocket::new(SockType::Stream, 1, &notifier);
        let c = UnixSocket::new(SockType::Stream, 2, &notifier);
        assert_eq!(
            c.connect_stream(&l, 2, &notifier).unwrap_err(),
            Errno::ECONNREFUSED
        );
        l.set_local_name(UnixAddr::Path("/s".into()));
        l.listen(0, 1).unwrap();
        assert_eq!(l.poll(), 0);
        c.connect_stream(&l, 2, &notifier).unwrap();
        assert_eq!(l.poll(), POLLIN);
        let c2 = UnixSocket::new(SockType::Stream, 3, &notifier);
        assert_eq!(
            c2.connect_stream(&l, 3, &notifier).unwrap_err(),
            Errno::EAGAIN
        );
        c.send_stream(b"early", vec![]).unwrap();
        let s = l.accept().unwrap();
        assert_eq!(s.recv_stream(10, false).unwrap().data, b"early");
        assert_eq!(s.peer_cred().0, 2);
        assert_eq!(c.peer_cred().0, 1);
        assert_eq!(c.peer_name().unwrap(), UnixAddr::Path("/s".into()));
        assert_eq!(l.accept().unwrap_err(), Errno::EAGAIN);
    }

    #[test]
    fn datagrams_keep_boundaries_and_truncate() {
        let (a, b) = UnixSocket::pair(SockType::Dgram, 1, &n());
        a.send_dgram(b"one", vec![], None).unwrap();
        a.send_dgram(b"second", vec![], None).unwrap();
        assert_eq!(b.recv_dgram(100, false).unwrap().data, b"one");
        let r = b.recv_dgram(3, false).unwrap();
        assert_eq!(r.data, b"sec");
        assert!(r.truncated);
        assert_eq!(b.recv_dgram(100, false).unwrap_err(), Errno::EAGAIN);
        drop(b);
        assert_eq!(
            a.send_dgram(b"x", vec![], None).unwrap_err(),
            Errno::ECONNREFUSED
        );
    }
}
