//! Process groups, sessions, job control and controlling terminals.

use std::sync::Arc;

use super::{Action, Kernel};
use crate::errno::{Errno, KResult};
use crate::process::Pid;
use crate::pty::device::{Pty, TtyEvent};
use crate::signal::{self, Disposition};
use crate::syscall::{ready, Outcome, Ret};

impl Kernel {
    pub(super) fn getpgid(&self, pid: Pid, which: Pid) -> Outcome {
        let target = if which == 0 { pid } else { which };
        ready(
            self.procs.get(target).map(|p| p.pgid()).ok_or(Errno::ESRCH),
            Ret::Pid,
        )
    }

    pub(super) fn setpgid(&mut self, caller: Pid, which: Pid, pgid: Pid) -> KResult<()> {
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let target = if which == 0 { caller } else { which };
        let caller_sid = self.procs.get(caller).unwrap().sid();
        let t = self.procs.get(target).ok_or(Errno::ESRCH)?;
        if target != caller && t.ppid() != caller {
            return Err(Errno::ESRCH);
        }
        if t.sid() != caller_sid || t.sid() == target {
            return Err(Errno::EPERM);
        }
        let pgid = if pgid == 0 { target } else { pgid };
        if pgid != target
            && !self
                .procs
                .iter()
                .any(|p| p.pgid() == pgid && p.sid() == caller_sid)
        {
            return Err(Errno::EPERM);
        }
        self.procs.get_mut(target).unwrap().join_group(pgid);
        Ok(())
    }

    pub(super) fn getsid(&self, pid: Pid, which: Pid) -> Outcome {
        let target = if which == 0 { pid } else { which };
        ready(
            self.procs.get(target).map(|p| p.sid()).ok_or(Errno::ESRCH),
            Ret::Pid,
        )
    }

    pub(super) fn setsid(&mut self, pid: Pid) -> KResult<Pid> {
        if self.procs.group_exists(pid) {
            return Err(Errno::EPERM);
        }
        self.procs.get_mut(pid).unwrap().start_session();
        Ok(pid)
    }

    /// Delivers what terminals asked for during the last call.
    pub fn drain_tty_events(&mut self) {
        let events = std::mem::take(&mut *self.tty_events.lock().unwrap());
        for ev in events {
            match ev {
                TtyEvent::Signal { pgrp, sig } => self.signal_group(pgrp, sig),
                TtyEvent::Hangup { sid, pgrp } => {
                    if let Some(g) = pgrp {
                        self.signal_group(g, signal::SIGHUP);
                        self.signal_group(g, signal::SIGCONT);
                    }
                    if self.procs.get(sid).is_some_and(|p| Some(p.pgid()) != pgrp) {
                        self.send_signal(sid, signal::SIGHUP);
                        self.send_signal(sid, signal::SIGCONT);
                    }
                }
            }
        }
    }

    /// Linux's job-control check: a process outside the foreground group
    /// using its controlling terminal. `None` lets the call go on; otherwise
    /// the call fails (EIO when SIGTTIN is ignored, EINTR after a caught
    /// signal) or waits while the signal's default action has stopped it.
    pub(super) fn tty_background(&mut self, pid: Pid, pty: &Arc<Pty>, sig: i32) -> Option<Outcome> {
        let p = self.procs.get(pid)?;
        if !p.has_ctty(pty) {
            return None;
        }
        let fg = pty.foreground()?;
        if p.pgid() == fg {
            return None;
        }
        let ignored = p.sig().action(sig).disposition == Disposition::Ignore
            || p.sig().blocked & signal::bit(sig) != 0;
        if ignored {
            return (sig == signal::SIGTTIN).then_some(Outcome::Ready(Err(Errno::EIO)));
        }
        let pgid = p.pgid();
        self.signal_group(pgid, sig);
        let p = self.procs.get(pid)?;
        if p.is_stopped() {
            return Some(Outcome::Block(vec![p.sig_events().key()]));
        }
        Some(Outcome::Ready(Err(Errno::EINTR)))
    }

    /// Session `sid` loses its controlling terminal.
    pub(super) fn release_ctty(&mut self, sid: Pid, tty: &Pty) {
        tty.detach();
        let members: Vec<Pid> = self
            .procs
            .iter()
            .filter(|p| p.sid() == sid)
            .map(|p| p.pid())
            .collect();
        for m in members {
            self.procs.get_mut(m).unwrap().take_ctty();
        }
    }

    /// Stops `pid`: its calls wait, its parent hears of it.
    pub(super) fn stop(&mut self, pid: Pid, sig: i32) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        if !p.mark_stopped(sig) {
            return;
        }
        let ppid = p.ppid();
        self.actions.push(Action::Stop { pid });
        self.tell_parent(ppid);
    }

    pub(super) fn resume(&mut self, pid: Pid) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        p.mark_continued();
        let ppid = p.ppid();
        self.tell_parent(ppid);
    }

    /// A child stopped or continued: wake waitpid, and SIGCHLD unless the
    /// parent asked for SA_NOCLDSTOP.
    fn tell_parent(&mut self, ppid: Pid) {
        let Some(parent) = self.procs.get(ppid) else {
            return;
        };
        parent.child_events().notify();
        if parent.sig().action(signal::SIGCHLD).flags & signal::SA_NOCLDSTOP == 0 {
            self.send_signal(ppid, signal::SIGCHLD);
        }
    }
}
