//! Files and paths: reads and writes, stat, and every call that names a
//! path (resolved by the VFS, except `/dev/pts/N`).

use std::sync::Arc;
use std::time::Instant;

use super::Kernel;
use crate::errno::{Errno, KResult};
use crate::fd_table::FdEntry;
use crate::file::{status, FileDescription, FileType, OpenFile, SetTime, Whence};
use crate::process::Pid;
use crate::pty::device::PtySlave;
use crate::pty::termios::{ICANON, TOSTOP};
use crate::signal;
use crate::syscall::{oflag, ready, Outcome, Ret};
use crate::vfs::OpenFlags;

impl Kernel {
    pub(super) fn readable_file(&self, pid: Pid, fd: i32) -> KResult<Arc<OpenFile>> {
        let f = self.file(pid, fd)?;
        if !f.readable() {
            return Err(Errno::EBADF);
        }
        Ok(f)
    }

    pub(super) fn writable_file(&self, pid: Pid, fd: i32) -> KResult<Arc<OpenFile>> {
        let f = self.file(pid, fd)?;
        if !f.writable() {
            return Err(Errno::EBADF);
        }
        Ok(f)
    }

    /// The directory that relative paths of `dirfd` start from.
    pub(super) fn base(&self, pid: Pid, dirfd: i32) -> KResult<String> {
        self.file(pid, dirfd)?.desc.dir_path().ok_or(Errno::ENOTDIR)
    }

    pub(super) fn read(
        &mut self,
        pid: Pid,
        fd: i32,
        len: usize,
        timer: &mut Option<Instant>,
        parked: &mut bool,
    ) -> Outcome {
        let f = match self.readable_file(pid, fd) {
            Ok(f) => f,
            Err(e) => return Outcome::Ready(Err(e)),
        };
        let slave = f.desc.as_any().downcast_ref::<PtySlave>();
        // A reader blocked when the terminal hangs up gets EIO (Linux's
        // TTY_OTHER_CLOSED); later reads see end of file.
        if *parked && slave.is_some_and(|s| s.0.hung_up()) {
            return Outcome::Ready(Err(Errno::EIO));
        }
        if let Some(pty) = slave.map(|s| s.0.clone()) {
            if let Some(o) = self.tty_background(pid, &pty, signal::SIGTTIN) {
                return o;
            }
        }
        match f.desc.read(len) {
            Err(Errno::EAGAIN) if !f.nonblocking() => {
                if let Some(slave) = slave {
                    if let Some(r) = tty_read_timer(slave, len, timer) {
                        return Outcome::Ready(r.map(Ret::Bytes));
                    }
                }
                *parked = true;
                Outcome::Block(f.desc.wait_keys())
            }
            r => ready(r, Ret::Bytes),
        }
    }

    pub(super) fn pread(&self, pid: Pid, fd: i32, len: usize, offset: u64) -> Outcome {
        ready(
            self.readable_file(pid, fd)
                .and_then(|f| f.desc.pread(len, offset)),
            Ret::Bytes,
        )
    }

    pub(super) fn write(&mut self, pid: Pid, fd: i32, data: &[u8], done: &mut usize) -> Outcome {
        let f = match self.writable_file(pid, fd) {
            Ok(f) => f,
            Err(e) => return Outcome::Ready(Err(e)),
        };
        if let Some(slave) = f.desc.as_any().downcast_ref::<PtySlave>() {
            let pty = slave.0.clone();
            if pty.termios().lflag(TOSTOP) {
                if let Some(o) = self.tty_background(pid, &pty, signal::SIGTTOU) {
                    return o;
                }
            }
        }
        loop {
            if *done == data.len() {
                return Outcome::Ready(Ok(Ret::Size(*done)));
            }
            match f.desc.write(&data[*done..], f.append()) {
                Ok(n) => *done += n,
                Err(Errno::EAGAIN) if *done > 0 && f.nonblocking() => {
                    return Outcome::Ready(Ok(Ret::Size(*done)))
                }
                Err(Errno::EAGAIN) if !f.nonblocking() => {
                    return Outcome::Block(f.desc.wait_keys())
                }
                Err(e) if *done > 0 && e != Errno::EPIPE => {
                    return Outcome::Ready(Ok(Ret::Size(*done)))
                }
                Err(e) => return self.ready_write(pid, Err(e)),
            }
        }
    }

    pub(super) fn pwrite(&mut self, pid: Pid, fd: i32, data: &[u8], offset: u64) -> Outcome {
        let r = self
            .writable_file(pid, fd)
            .and_then(|f| f.desc.pwrite(data, offset));
        self.ready_write(pid, r)
    }

    /// A write that failed with EPIPE also raises SIGPIPE, as on Linux.
    pub(super) fn ready_write(&mut self, pid: Pid, r: KResult<usize>) -> Outcome {
        if r == Err(Errno::EPIPE) {
            self.send_signal(pid, signal::SIGPIPE);
        }
        ready(r, Ret::Size)
    }

    pub(super) fn seek(&self, pid: Pid, fd: i32, offset: i64, whence: Whence) -> Outcome {
        ready(
            self.file(pid, fd).and_then(|f| f.desc.seek(offset, whence)),
            Ret::Offset,
        )
    }

    pub(super) fn sync(&self, pid: Pid, fd: i32) -> Outcome {
        ready(self.file(pid, fd).and_then(|f| f.desc.sync()), |_| {
            Ret::Unit
        })
    }

    pub(super) fn file_stat(&self, pid: Pid, fd: i32) -> Outcome {
        ready(self.file(pid, fd).and_then(|f| f.desc.stat()), Ret::Stat)
    }

    pub(super) fn set_size(&self, pid: Pid, fd: i32, size: u64) -> Outcome {
        ready(
            self.writable_file(pid, fd)
                .and_then(|f| f.desc.set_size(size)),
            |_| Ret::Unit,
        )
    }

    pub(super) fn set_times(&self, pid: Pid, fd: i32, atime: SetTime, mtime: SetTime) -> Outcome {
        ready(
            self.file(pid, fd)
                .and_then(|f| f.desc.set_times(atime, mtime)),
            |_| Ret::Unit,
        )
    }

    pub(super) fn allocate(&self, pid: Pid, fd: i32, offset: u64, len: u64) -> Outcome {
        let end = offset.saturating_add(len);
        let r = self.writable_file(pid, fd).and_then(|f| {
            if f.desc.file_type() != FileType::RegularFile {
                return Err(Errno::ENODEV);
            }
            if f.desc.stat()?.size < end {
                f.desc.set_size(end)?;
            }
            Ok(())
        });
        ready(r, |_| Ret::Unit)
    }

    pub(super) fn advise(&self, pid: Pid, fd: i32) -> Outcome {
        ready(self.file(pid, fd), |_| Ret::Unit)
    }

    pub(super) fn readdir(&self, pid: Pid, fd: i32, cookie: u64) -> Outcome {
        let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
        let r = self.file(pid, fd).and_then(|f| f.desc.readdir());
        ready(r, |e| Ret::Entries(e.into_iter().skip(skip).collect()))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn path_open(
        &mut self,
        pid: Pid,
        dirfd: i32,
        path: &str,
        flags: OpenFlags,
        status_bits: u32,
        cloexec: bool,
        noctty: bool,
    ) -> KResult<i32> {
        let base = self.base(pid, dirfd)?;
        // Counted before anything is opened or created, as Linux checks
        // `file-max` before the path walk.
        let charge = self.files.charge()?;
        let desc = self.open_desc(pid, &base, path, flags, 0o666, noctty)?;
        let mut bits = status_bits & !(status::READ | status::WRITE);
        if flags.read {
            bits |= status::READ;
        }
        if flags.write {
            bits |= status::WRITE;
        }
        let file = OpenFile::charged(desc, bits, charge);
        self.fds_mut(pid).alloc(FdEntry::new(file, cloexec), 0)
    }

    /// Opens a path for `pid`: the VFS, except `/dev/pts/N`, which names a
    /// pty slave, and `/dev/tty`, the caller's controlling terminal (ENXIO
    /// without one, as on Linux). A session leader without a terminal that
    /// opens a slave acquires it, as on Linux.
    pub(super) fn open_desc(
        &mut self,
        pid: Pid,
        base: &str,
        path: &str,
        flags: OpenFlags,
        mode: u32,
        noctty: bool,
    ) -> KResult<Arc<dyn FileDescription>> {
        let index = match dev_node(base, path) {
            None => return self.vfs.open(base, path, flags, mode),
            Some(DevNode::Tty) => {
                let p = self.procs.get(pid).ok_or(Errno::ESRCH)?;
                let slave = p.ctty().ok_or(Errno::ENXIO)?.open_slave()?;
                return Ok(slave as Arc<dyn FileDescription>);
            }
            Some(DevNode::Pts(index)) => index,
        };
        let pty = self.ptys.lock().unwrap().get(index).ok_or(Errno::ENOENT)?;
        let slave = pty.open_slave()?;
        let p = self.procs.get_mut(pid).unwrap();
        if !noctty && p.sid() == pid && p.ctty().is_none() && pty.session().is_none() {
            pty.attach(pid, p.pgid());
            p.set_ctty(pty);
        }
        Ok(slave)
    }

    pub(super) fn path_mkdir(&self, pid: Pid, dirfd: i32, path: &str) -> Outcome {
        let r = self
            .base(pid, dirfd)
            .and_then(|b| self.vfs.mkdir(&b, path, 0o777));
        ready(r, |_| Ret::Unit)
    }

    pub(super) fn path_stat(&self, pid: Pid, dirfd: i32, path: &str, follow: bool) -> Outcome {
        let r = self
            .base(pid, dirfd)
            .and_then(|b| self.vfs.stat(&b, path, follow));
        ready(r, Ret::Stat)
    }

    pub(super) fn path_set_times(
        &self,
        pid: Pid,
        dirfd: i32,
        path: &str,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> Outcome {
        let r = self
            .base(pid, dirfd)
            .and_then(|b| self.vfs.set_times(&b, path, follow, atime, mtime));
        ready(r, |_| Ret::Unit)
    }

    pub(super) fn path_link(
        &self,
        pid: Pid,
        dirfd: i32,
        path: &str,
        follow: bool,
        new_dirfd: i32,
        new_path: &str,
    ) -> Outcome {
        let r = self.base(pid, dirfd).and_then(|b| {
            let nb = self.base(pid, new_dirfd)?;
            self.vfs.link(&b, path, follow, &nb, new_path)
        });
        ready(r, |_| Ret::Unit)
    }

    pub(super) fn path_readlink(&self, pid: Pid, dirfd: i32, path: &str) -> Outcome {
        let r = self
            .base(pid, dirfd)
            .and_then(|b| self.vfs.readlink(&b, path));
        ready(r, Ret::Text)
    }

    pub(super) fn path_rmdir(&self, pid: Pid, dirfd: i32, path: &str) -> Outcome {
        let r = self.base(pid, dirfd).and_then(|b| self.vfs.rmdir(&b, path));
        ready(r, |_| Ret::Unit)
    }

    pub(super) fn path_rename(
        &self,
        pid: Pid,
        dirfd: i32,
        path: &str,
        new_dirfd: i32,
        new_path: &str,
    ) -> Outcome {
        let r = self.base(pid, dirfd).and_then(|b| {
            let nb = self.base(pid, new_dirfd)?;
            self.vfs.rename(&b, path, &nb, new_path)
        });
        ready(r, |_| Ret::Unit)
    }

    pub(super) fn path_symlink(&self, pid: Pid, target: &str, dirfd: i32, path: &str) -> Outcome {
        let r = self
            .base(pid, dirfd)
            .and_then(|b| self.vfs.symlink(target, &b, path));
        ready(r, |_| Ret::Unit)
    }

    pub(super) fn path_unlink(&self, pid: Pid, dirfd: i32, path: &str) -> Outcome {
        let r = self
            .base(pid, dirfd)
            .and_then(|b| self.vfs.unlink(&b, path));
        ready(r, |_| Ret::Unit)
    }
}

/// Linux open flags to VFS flags plus description status bits.
pub fn open_flags(oflag: u32) -> (OpenFlags, u32) {
    use oflag::*;
    let acc = oflag & O_ACCMODE;
    let flags = OpenFlags {
        read: acc != O_WRONLY,
        write: acc == O_WRONLY || acc == O_RDWR,
        create: oflag & O_CREAT != 0,
        excl: oflag & O_EXCL != 0,
        truncate: oflag & O_TRUNC != 0,
        directory: oflag & O_DIRECTORY != 0,
        append: oflag & O_APPEND != 0,
        nofollow: oflag & O_NOFOLLOW != 0,
    };
    let mut st = oflag_to_status(oflag);
    if flags.read {
        st |= status::READ;
    }
    if flags.write {
        st |= status::WRITE;
    }
    (flags, st)
}

pub(super) fn oflag_to_status(oflag: u32) -> u32 {
    let mut st = 0;
    if oflag & oflag::O_APPEND != 0 {
        st |= status::APPEND;
    }
    if oflag & oflag::O_NONBLOCK != 0 {
        st |= status::NONBLOCK;
    }
    st
}

pub(super) fn status_to_oflag(st: u32) -> u32 {
    let mut o = match (st & status::READ != 0, st & status::WRITE != 0) {
        (true, true) => oflag::O_RDWR,
        (false, true) => oflag::O_WRONLY,
        _ => 0,
    };
    if st & status::APPEND != 0 {
        o |= oflag::O_APPEND;
    }
    if st & status::NONBLOCK != 0 {
        o |= oflag::O_NONBLOCK;
    }
    o
}

/// A device node the kernel opens itself, per process.
enum DevNode {
    /// `/dev/pts/N`.
    Pts(u32),
    /// `/dev/tty`.
    Tty,
}

/// The device node `path` (from `base`) names, if it is one of those.
/// `/dev` is a device filesystem without links, so a lexical walk is exact.
fn dev_node(base: &str, path: &str) -> Option<DevNode> {
    let full = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in full.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    match parts.as_slice() {
        ["dev", "pts", n] if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            n.parse().ok().map(DevNode::Pts)
        }
        ["dev", "tty"] => Some(DevNode::Tty),
        _ => None,
    }
}

/// VMIN/VTIME for a blocked non-canonical tty read: `Some` result once the
/// VTIME timer has run out (what is there, possibly nothing), `None` to keep
/// waiting (arming the timer when it applies).
fn tty_read_timer(
    slave: &PtySlave,
    len: usize,
    timer: &mut Option<Instant>,
) -> Option<KResult<Vec<u8>>> {
    let pty = &slave.0;
    if pty.termios().lflag(ICANON) {
        return None;
    }
    let (vmin, vtime) = pty.vmin_vtime();
    if vtime == 0 {
        return None;
    }
    // With VMIN > 0 the timer only starts once a byte has arrived.
    if vmin > 0 && pty.input_queued() == 0 {
        return None;
    }
    match *timer {
        None => {
            *timer =
                Some(Instant::now() + std::time::Duration::from_millis(100 * u64::from(vtime)));
            None
        }
        Some(t) if Instant::now() >= t => Some(pty.read_available(len)),
        Some(_) => None,
    }
}
