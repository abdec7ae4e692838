//! The descriptor table: close, dup, fcntl, pipes, and the status flags
//! of the descriptions fds name.

use std::sync::Arc;

use super::fs::{oflag_to_status, status_to_oflag};
use super::Kernel;
use crate::errno::{Errno, KResult};
use crate::fd_table::{FdEntry, FdTable};
use crate::file::{status, OpenFile};
use crate::pipe::pipe;
use crate::process::Pid;
use crate::syscall::{oflag, ready, Outcome, Ret};

impl Kernel {
    pub(super) fn fds(&self, pid: Pid) -> &FdTable {
        self.procs.get(pid).expect("caller checked pid").fds()
    }

    pub(super) fn fds_mut(&mut self, pid: Pid) -> &mut FdTable {
        self.procs
            .get_mut(pid)
            .expect("caller checked pid")
            .fds_mut()
    }

    pub(super) fn file(&self, pid: Pid, fd: i32) -> KResult<Arc<OpenFile>> {
        self.fds(pid).file(fd)
    }

    pub(super) fn close(&mut self, pid: Pid, fd: i32) -> Outcome {
        ready(self.fds_mut(pid).remove(fd), |_| Ret::Unit)
    }

    pub(super) fn fd_stat(&self, pid: Pid, fd: i32) -> Outcome {
        ready(self.file(pid, fd), |f| Ret::FdStat {
            file_type: f.desc.file_type(),
            status: f.flags(),
            tty: f.desc.is_tty().is_some(),
        })
    }

    pub(super) fn fd_set_status(&self, pid: Pid, fd: i32, status: u32) -> Outcome {
        ready(self.file(pid, fd), |f| {
            f.set_status(status);
            Ret::Unit
        })
    }

    pub(super) fn prestat(&self, pid: Pid, fd: i32) -> Outcome {
        let r = self
            .fds(pid)
            .get(fd)
            .and_then(|e| e.preopen.clone().ok_or(Errno::EBADF));
        ready(r, Ret::Prestat)
    }

    pub(super) fn renumber(&mut self, pid: Pid, from: i32, to: i32) -> KResult<()> {
        let fds = self.fds_mut(pid);
        fds.get(to)?;
        let entry = fds.remove(from)?;
        fds.install(to, entry)?;
        Ok(())
    }

    pub(super) fn pipe2(&mut self, pid: Pid, flags: u32) -> KResult<(i32, i32)> {
        if flags & !(oflag::O_CLOEXEC | oflag::O_NONBLOCK) != 0 {
            return Err(Errno::EINVAL);
        }
        let (r, w) = pipe(&self.notifier);
        if flags & oflag::O_NONBLOCK != 0 {
            r.set_status(status::NONBLOCK);
            w.set_status(status::NONBLOCK);
        }
        let cloexec = flags & oflag::O_CLOEXEC != 0;
        let fds = self.fds_mut(pid);
        let rfd = fds.alloc(FdEntry::new(r, cloexec), 0)?;
        match fds.alloc(FdEntry::new(w, cloexec), 0) {
            Ok(wfd) => Ok((rfd, wfd)),
            Err(e) => {
                let _ = fds.remove(rfd);
                Err(e)
            }
        }
    }

    pub(super) fn dup(&mut self, pid: Pid, fd: i32) -> Outcome {
        let r = self
            .fds(pid)
            .get(fd)
            .cloned()
            .and_then(|e| self.fds_mut(pid).alloc(FdEntry::new(e.file, false), 0));
        ready(r, Ret::Fd)
    }

    pub(super) fn dup3(&mut self, pid: Pid, old: i32, new: i32, flags: u32) -> KResult<i32> {
        if flags & !oflag::O_CLOEXEC != 0 || old == new {
            return Err(Errno::EINVAL);
        }
        let fds = self.fds_mut(pid);
        let file = fds.file(old)?;
        let prev = fds.install(new, FdEntry::new(file, flags & oflag::O_CLOEXEC != 0))?;
        drop(prev);
        Ok(new)
    }

    pub(super) fn fcntl(&mut self, pid: Pid, fd: i32, cmd: i32, arg: i32) -> KResult<i32> {
        use sidecar_abi::consts::fcntl::{
            FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL,
        };
        let fds = self.fds_mut(pid);
        let entry = fds.get(fd)?.clone();
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                fds.alloc(FdEntry::new(entry.file, cmd == F_DUPFD_CLOEXEC), arg)
            }
            F_GETFD => Ok(if entry.cloexec { FD_CLOEXEC } else { 0 }),
            F_SETFD => {
                fds.get_mut(fd)?.cloexec = arg & FD_CLOEXEC != 0;
                Ok(0)
            }
            F_GETFL => Ok(status_to_oflag(entry.file.flags()) as i32),
            F_SETFL => {
                entry.file.set_status(oflag_to_status(arg as u32));
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }
}
