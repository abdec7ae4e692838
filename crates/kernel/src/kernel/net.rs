//! The socket system calls, over the AF_UNIX sockets of [`crate::unix`].

use std::sync::Arc;

use sidecar_abi::consts::limits;
use sidecar_abi::consts::msg::{
    MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL,
};
use sidecar_abi::consts::sock_flags::{SOCK_CLOEXEC, SOCK_NONBLOCK};
use sidecar_abi::consts::socket::{AF_UNIX, SOCK_DGRAM, SOCK_STREAM};
use sidecar_abi::consts::sockopt::{
    SOL_SOCKET, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_KEEPALIVE, SO_PASSCRED, SO_PEERCRED,
    SO_PROTOCOL, SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, SO_TYPE,
};

use super::Kernel;
use crate::action::Action;
use crate::errno::{Errno, KResult};
use crate::fd_table::FdEntry;
use crate::file::{status, FileDescription, OpenFile};
use crate::process::Pid;
use crate::syscall::{ready, Outcome, Ret, SockOpt};
use crate::unix::addr::UnixAddr;
use crate::unix::socket::{Binding, Received, SockType, UnixSocket};

/// Linux's `SCM_MAX_FD`.
const SCM_MAX_FD: usize = limits::SCM_MAX_FD as usize;

impl Kernel {
    /// The socket behind `fd`, and its open file.
    fn sock(&self, pid: Pid, fd: i32) -> KResult<(Arc<UnixSocket>, Arc<OpenFile>)> {
        let f = self.file(pid, fd)?;
        let s = socket_of(&f).ok_or(Errno::ENOTSOCK)?;
        Ok((s, f))
    }

    fn install_socket(&mut self, pid: Pid, s: Arc<UnixSocket>, flags: i32) -> KResult<i32> {
        let mut st = status::READ | status::WRITE;
        if flags & SOCK_NONBLOCK != 0 {
            st |= status::NONBLOCK;
        }
        let file = OpenFile::new(s, st);
        self.fds_mut(pid)
            .alloc(FdEntry::new(file, flags & SOCK_CLOEXEC != 0), 0)
    }

    fn sock_type(domain: i32, ty: i32, protocol: i32) -> KResult<(SockType, i32)> {
        if domain != AF_UNIX {
            return Err(Errno::EAFNOSUPPORT);
        }
        let flags = ty & (SOCK_NONBLOCK | SOCK_CLOEXEC);
        let kind = match ty & !(SOCK_NONBLOCK | SOCK_CLOEXEC) {
            SOCK_STREAM => SockType::Stream,
            SOCK_DGRAM => SockType::Dgram,
            _ => return Err(Errno::EINVAL),
        };
        if protocol != 0 {
            return Err(Errno::EPROTONOSUPPORT);
        }
        Ok((kind, flags))
    }

    pub(super) fn listen(&mut self, pid: Pid, fd: i32, backlog: i32) -> Outcome {
        let r = self.sock(pid, fd).and_then(|(s, _)| {
            s.listen(backlog, pid)?;
            Ok(s.local_name())
        });
        if let Ok(crate::unix::addr::UnixAddr::Path(path)) = &r {
            // As bound, made absolute the way bind resolved it; only while
            // the path still leads to a listener (it may have been unlinked
            // and bound again since).
            let path = match path.starts_with('/') {
                true => path.clone(),
                false => format!("{}/{path}", self.cwd(pid).trim_end_matches('/')),
            };
            if self.is_listening(&path) {
                self.actions.push(Action::Listening { path });
            }
        }
        ready(r, |_| Ret::Unit)
    }

    /// Whether a socket listens at VM path `path` (absolute).
    pub fn is_listening(&self, path: &str) -> bool {
        self.vfs
            .lookup_socket("/", path)
            .ok()
            .and_then(|ep| {
                ep.downcast_ref::<crate::unix::socket::Binding>()
                    .and_then(|b| b.socket.upgrade())
            })
            .is_some_and(|s| s.is_listening())
    }

    pub(super) fn shutdown(&mut self, pid: Pid, fd: i32, how: i32) -> Outcome {
        ready(
            self.sock(pid, fd).and_then(|(s, _)| s.shutdown(how)),
            |_| Ret::Unit,
        )
    }

    /// `getsockname`, or `getpeername` with `peer`.
    pub(super) fn sockname(&self, pid: Pid, fd: i32, peer: bool) -> Outcome {
        let r = self.sock(pid, fd).and_then(|(s, _)| {
            if peer {
                s.peer_name()
            } else {
                Ok(s.local_name())
            }
        });
        ready(r, |a| Ret::Bytes(a.to_raw()))
    }

    pub(super) fn socket(&mut self, pid: Pid, domain: i32, ty: i32, protocol: i32) -> KResult<i32> {
        let (kind, flags) = Self::sock_type(domain, ty, protocol)?;
        let s = UnixSocket::new(kind, pid, &self.notifier);
        self.install_socket(pid, s, flags)
    }

    pub(super) fn socketpair(
        &mut self,
        pid: Pid,
        domain: i32,
        ty: i32,
        protocol: i32,
    ) -> KResult<(i32, i32)> {
        let (kind, flags) = Self::sock_type(domain, ty, protocol)?;
        let (a, b) = UnixSocket::pair(kind, pid, &self.notifier);
        let fa = self.install_socket(pid, a, flags)?;
        match self.install_socket(pid, b, flags) {
            Ok(fb) => Ok((fa, fb)),
            Err(e) => {
                let _ = self.fds_mut(pid).remove(fa);
                Err(e)
            }
        }
    }

    fn cwd(&self, pid: Pid) -> String {
        self.procs
            .get(pid)
            .map(|p| p.cwd().to_owned())
            .unwrap_or_else(|| "/".into())
    }

    pub(super) fn bind(&mut self, pid: Pid, fd: i32, raw: &[u8]) -> KResult<()> {
        let (s, _) = self.sock(pid, fd)?;
        let addr = UnixAddr::parse(raw)?;
        match addr {
            // Linux creates the file before it looks at the socket, so an
            // existing path is EADDRINUSE even for a bound socket.
            UnixAddr::Path(p) => {
                let cwd = self.cwd(pid);
                let binding = Arc::new(Binding {
                    socket: Arc::downgrade(&s),
                });
                self.vfs.bind_socket(&cwd, &p, binding)?;
                if s.is_bound() {
                    let _ = self.vfs.unlink(&cwd, &p);
                    return Err(Errno::EINVAL);
                }
                s.set_local_name(UnixAddr::Path(p));
                Ok(())
            }
            _ if s.is_bound() => Err(Errno::EINVAL),
            UnixAddr::Abstract(n) => {
                self.unix.bind(n.clone(), &s)?;
                s.set_local_name(UnixAddr::Abstract(n));
                Ok(())
            }
            UnixAddr::Unnamed => {
                let n = self.unix.auto_name()?;
                self.unix.bind(n.clone(), &s)?;
                s.set_local_name(UnixAddr::Abstract(n));
                Ok(())
            }
        }
    }

    /// The socket bound at `addr`.
    fn lookup(&mut self, pid: Pid, addr: &UnixAddr) -> KResult<Arc<UnixSocket>> {
        match addr {
            UnixAddr::Unnamed => Err(Errno::EINVAL),
            UnixAddr::Abstract(n) => self.unix.lookup(n).ok_or(Errno::ECONNREFUSED),
            UnixAddr::Path(p) => {
                let ep = self.vfs.lookup_socket(&self.cwd(pid), p)?;
                ep.downcast_ref::<Binding>()
                    .and_then(|b| b.socket.upgrade())
                    .ok_or(Errno::ECONNREFUSED)
            }
        }
    }

    pub(super) fn accept(&mut self, pid: Pid, fd: i32, flags: u32) -> Outcome {
        let (s, f) = match self.sock(pid, fd) {
            Ok(x) => x,
            Err(e) => return Outcome::Ready(Err(e)),
        };
        if flags as i32 & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
            return Outcome::Ready(Err(Errno::EINVAL));
        }
        match s.accept() {
            Err(Errno::EAGAIN) if !f.nonblocking() => {
                Outcome::Block(FileDescription::wait_keys(&*s))
            }
            Err(e) => Outcome::Ready(Err(e)),
            Ok(conn) => {
                let addr = conn.peer_name().map(|a| a.to_raw()).unwrap_or_default();
                ready(self.install_socket(pid, conn, flags as i32), |fd| {
                    Ret::Accepted { fd, addr }
                })
            }
        }
    }

    pub(super) fn connect(&mut self, pid: Pid, fd: i32, raw: &[u8]) -> Outcome {
        let r = (|| {
            let (s, f) = self.sock(pid, fd)?;
            let addr = UnixAddr::parse(raw)?;
            let target = self.lookup(pid, &addr)?;
            Ok((s, f, target))
        })();
        let (s, f, target) = match r {
            Ok(x) => x,
            Err(e) => return Outcome::Ready(Err(e)),
        };
        match s.sock_type() {
            SockType::Dgram => ready(s.connect_dgram(&target), |_| Ret::Unit),
            SockType::Stream => match s.connect_stream(&target, pid, &self.notifier) {
                Err(Errno::EAGAIN) if !f.nonblocking() => {
                    Outcome::Block(FileDescription::wait_keys(&*target))
                }
                r => ready(r, |_| Ret::Unit),
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn sendmsg(
        &mut self,
        pid: Pid,
        fd: i32,
        data: &[u8],
        fds: &[i32],
        flags: u32,
        addr: Option<&[u8]>,
        done: &mut usize,
    ) -> Outcome {
        let r = (|| {
            let (s, f) = self.sock(pid, fd)?;
            if fds.len() > SCM_MAX_FD {
                return Err(Errno::EINVAL);
            }
            let files = fds
                .iter()
                .map(|&fd| self.file(pid, fd))
                .collect::<KResult<Vec<_>>>()?;
            let target = match (s.sock_type(), addr) {
                (SockType::Dgram, Some(raw)) => Some(self.lookup(pid, &UnixAddr::parse(raw)?)?),
                (SockType::Stream, Some(_)) => {
                    return Err(if s.peer_name().is_ok() {
                        Errno::EISCONN
                    } else {
                        Errno::EOPNOTSUPP
                    })
                }
                _ => None,
            };
            Ok((s, f, files, target))
        })();
        let (s, f, files, target) = match r {
            Ok(x) => x,
            Err(e) => return Outcome::Ready(Err(e)),
        };
        let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
        let result = match s.sock_type() {
            SockType::Dgram => {
                let keys_of = target.clone();
                match s.send_dgram(data, files, target) {
                    Err(Errno::EAGAIN) if !nonblock => {
                        let mut keys = FileDescription::wait_keys(&*s);
                        if let Some(t) = keys_of {
                            keys.extend(FileDescription::wait_keys(&*t));
                        }
                        return Outcome::Block(keys);
                    }
                    r => r,
                }
            }
            // Linux sends nothing, not even fds, for an empty stream write.
            SockType::Stream if data.is_empty() => Ok(0),
            SockType::Stream => {
                let mut files = files;
                loop {
                    if *done == data.len() {
                        break Ok(*done);
                    }
                    // The fds travel with the first chunk only; a blocked
                    // send that queued nothing resolves them again on retry.
                    let send_fds = if *done == 0 {
                        std::mem::take(&mut files)
                    } else {
                        Vec::new()
                    };
                    match s.send_stream(&data[*done..], send_fds) {
                        Ok(n) => *done += n,
                        Err(Errno::EAGAIN) if *done > 0 && nonblock => break Ok(*done),
                        Err(Errno::EAGAIN) if !nonblock => {
                            return Outcome::Block(FileDescription::wait_keys(&*s));
                        }
                        Err(e) if *done > 0 && e != Errno::EPIPE => break Ok(*done),
                        Err(e) => break Err(e),
                    }
                }
            }
        };
        if result == Err(Errno::EPIPE) && flags & MSG_NOSIGNAL != 0 {
            return Outcome::Ready(Err(Errno::EPIPE));
        }
        self.ready_write(pid, result)
    }

    pub(super) fn recvmsg(
        &mut self,
        pid: Pid,
        fd: i32,
        len: usize,
        flags: u32,
        fds_cap: usize,
        acc: &mut Option<Received>,
    ) -> Outcome {
        let (s, f) = match self.sock(pid, fd) {
            Ok(x) => x,
            Err(e) => return Outcome::Ready(Err(e)),
        };
        let peek = flags & MSG_PEEK != 0;
        let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
        let waitall = flags & MSG_WAITALL != 0 && !peek && s.sock_type() == SockType::Stream;
        let mut got = acc.take().unwrap_or_default();
        loop {
            let want = len - got.data.len();
            let r = match s.sock_type() {
                SockType::Stream => s.recv_stream(want, peek),
                SockType::Dgram => s.recv_dgram(want, peek),
            };
            match r {
                Ok(part) => {
                    let eof = part.data.is_empty();
                    got.data.extend(part.data);
                    got.fds.extend(part.fds);
                    got.truncated |= part.truncated;
                    got.full_len = part.full_len;
                    if got.from.is_none() {
                        got.from = part.from;
                    }
                    if !waitall || eof || got.data.len() >= len {
                        break;
                    }
                }
                Err(Errno::EAGAIN) if !got.data.is_empty() && (!waitall || nonblock) => break,
                // A signal ends a MSG_WAITALL receive with what it has, as
                // on Linux; restarting or failing it would lose that data.
                Err(Errno::EAGAIN) if !got.data.is_empty() && self.signal_due(pid) => break,
                Err(Errno::EAGAIN) if !nonblock => {
                    *acc = Some(got);
                    return Outcome::Block(FileDescription::wait_keys(&*s));
                }
                Err(_) if !got.data.is_empty() => break,
                Err(e) => return Outcome::Ready(Err(e)),
            }
        }
        let mut msg_flags = 0;
        if got.truncated {
            msg_flags |= MSG_TRUNC;
        }
        let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
        let mut fds = Vec::new();
        for (i, file) in got.fds.into_iter().enumerate() {
            if i >= fds_cap {
                msg_flags |= MSG_CTRUNC;
                continue;
            }
            match self.fds_mut(pid).alloc(FdEntry::new(file, cloexec), 0) {
                Ok(fd) => fds.push(fd),
                Err(_) => msg_flags |= MSG_CTRUNC,
            }
        }
        let from = match s.sock_type() {
            SockType::Dgram => got.from.unwrap_or(UnixAddr::Unnamed),
            SockType::Stream => s.peer_name().unwrap_or(UnixAddr::Unnamed),
        };
        let addr = if from == UnixAddr::Unnamed {
            Vec::new()
        } else {
            from.to_raw()
        };
        // MSG_TRUNC asks for a datagram's real length (Linux).
        let len = if flags & MSG_TRUNC != 0 && s.sock_type() == SockType::Dgram {
            got.full_len
        } else {
            got.data.len()
        };
        Outcome::Ready(Ok(Ret::Received {
            len,
            data: got.data,
            fds,
            addr,
            flags: msg_flags,
        }))
    }

    pub(super) fn getsockopt(
        &mut self,
        pid: Pid,
        fd: i32,
        level: i32,
        name: i32,
    ) -> KResult<SockOpt> {
        let (s, _) = self.sock(pid, fd)?;
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(match name {
            SO_TYPE => SockOpt::Int(match s.sock_type() {
                SockType::Stream => SOCK_STREAM,
                SockType::Dgram => SOCK_DGRAM,
            }),
            SO_ERROR => SockOpt::Error(s.take_error()),
            SO_SNDBUF => SockOpt::Int(s.sndbuf() as i32),
            SO_RCVBUF => SockOpt::Int(s.rcvbuf() as i32),
            SO_PEERCRED => {
                let (pid, uid, gid) = s.peer_cred();
                SockOpt::Cred { pid, uid, gid }
            }
            SO_ACCEPTCONN => SockOpt::Int(s.is_listening() as i32),
            SO_DOMAIN => SockOpt::Int(AF_UNIX),
            SO_PROTOCOL => SockOpt::Int(0),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }

    pub(super) fn setsockopt(
        &mut self,
        pid: Pid,
        fd: i32,
        level: i32,
        name: i32,
        value: &[u8],
    ) -> KResult<()> {
        let (s, _) = self.sock(pid, fd)?;
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        let int = || -> KResult<i32> {
            let b: [u8; 4] = value
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Errno::EINVAL)?;
            Ok(i32::from_le_bytes(b))
        };
        match name {
            SO_SNDBUF | SO_RCVBUF => {
                let v = int()?.max(0) as usize;
                s.set_buf(name == SO_SNDBUF, v);
                Ok(())
            }
            SO_REUSEADDR | SO_KEEPALIVE | SO_PASSCRED => int().map(|_| ()),
            _ => Err(Errno::ENOPROTOOPT),
        }
    }
}

/// The socket behind an open file, if it is one.
fn socket_of(f: &Arc<OpenFile>) -> Option<Arc<UnixSocket>> {
    let any: Arc<dyn std::any::Any + Send + Sync> = f.desc.clone();
    any.downcast::<UnixSocket>().ok()
}
