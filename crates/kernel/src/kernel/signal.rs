//! Signals: sending, dispositions, masks, and handing caught signals to
//! the guest's handlers.

use sidecar_abi::consts::sigmask::{SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK};

use super::{Action, Kernel};
use crate::errno::{Errno, KResult};
use crate::process::Pid;
use crate::signal::{self, DefaultAction, Disposition, SigAction};
use crate::syscall::{Outcome, Ret, Syscall};

impl Kernel {
    pub(super) fn kill(&mut self, sender: Pid, target: Pid, sig: i32) -> KResult<()> {
        if !(0..=signal::NSIG).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        // -INT_MIN names no group (Linux's kill_something_info).
        if target == Pid::MIN {
            return Err(Errno::ESRCH);
        }
        let sender_pgid = self.procs.get(sender).map(|p| p.pgid()).unwrap_or(0);
        let targets: Vec<Pid> = self
            .procs
            .iter()
            .filter(|p| match target {
                t if t > 0 => p.pid() == t,
                0 => p.pgid() == sender_pgid,
                -1 => p.pid() != 1 && p.pid() != sender,
                t => p.pgid() == -t,
            })
            .map(|p| p.pid())
            .collect();
        if targets.is_empty() {
            return Err(Errno::ESRCH);
        }
        if sig != 0 {
            for t in targets {
                self.send_signal(t, sig);
            }
        }
        Ok(())
    }

    pub(super) fn signal_group(&mut self, pgrp: Pid, sig: i32) {
        let members: Vec<Pid> = self
            .procs
            .iter()
            .filter(|p| p.pgid() == pgrp)
            .map(|p| p.pid())
            .collect();
        for pid in members {
            self.send_signal(pid, sig);
        }
    }

    /// Posts `sig` to `pid`, as Linux's `send_signal`: ignored signals are
    /// discarded, fatal default actions kill at once unless blocked, caught
    /// ones become pending and interrupt a blocked call.
    pub fn send_signal(&mut self, pid: Pid, sig: i32) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        if !p.is_live() || p.killed().is_some() {
            return;
        }
        // SIGCONT resumes whatever its disposition, and cancels pending
        // stops; a stop cancels a pending SIGCONT (Linux's prepare_signal).
        const STOPS: [i32; 4] = [
            signal::SIGSTOP,
            signal::SIGTSTP,
            signal::SIGTTIN,
            signal::SIGTTOU,
        ];
        if sig == signal::SIGCONT {
            for s in STOPS {
                p.sig_mut().pending &= !signal::bit(s);
            }
            if p.is_stopped() {
                self.resume(pid);
            }
        } else if STOPS.contains(&sig) {
            p.sig_mut().pending &= !signal::bit(signal::SIGCONT);
        }
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        let action = p.sig().action(sig);
        let unblockable = sig == signal::SIGKILL || sig == signal::SIGSTOP;
        let blocked = p.sig().blocked & signal::bit(sig) != 0 && !unblockable;
        let disposition = if unblockable {
            Disposition::Default
        } else {
            action.disposition
        };
        match disposition {
            Disposition::Ignore => {}
            Disposition::Default => match signal::default_action(sig) {
                DefaultAction::Terminate | DefaultAction::Stop if blocked => {
                    p.sig_mut().pending |= signal::bit(sig)
                }
                DefaultAction::Terminate => {
                    p.mark_killed(sig);
                    self.actions.push(Action::Terminate { pid, sig });
                }
                DefaultAction::Stop => self.stop(pid, sig),
                DefaultAction::Ignore | DefaultAction::Continue => {}
            },
            Disposition::Catch => {
                p.sig_mut().pending |= signal::bit(sig);
                if !blocked {
                    p.sig_events().notify();
                    self.actions.push(Action::Interrupt { pid });
                }
            }
        }
    }

    /// Whether `pid` has a caught signal to handle now.
    pub fn signal_due(&self, pid: Pid) -> bool {
        self.procs.get(pid).is_some_and(|p| {
            let due = p.sig().deliverable();
            (1..=signal::NSIG).any(|s| {
                due & signal::bit(s) != 0 && p.sig().action(s).disposition == Disposition::Catch
            })
        })
    }

    /// How a parked call of `pid` ends when a signal interrupts it: `None`
    /// to restart it after the handler (SA_RESTART on a restartable call),
    /// else its result (EINTR, or the progress a write already made).
    pub fn interrupted(&self, pid: Pid, call: &Syscall) -> Option<KResult<Ret>> {
        let p = self.procs.get(pid)?;
        let due = p.sig().deliverable();
        let restart = (1..=signal::NSIG)
            .filter(|s| due & signal::bit(*s) != 0)
            .all(|s| p.sig().action(s).flags & signal::SA_RESTART != 0);
        match call {
            Syscall::Write { done, .. } | Syscall::SendMsg { done, .. } if *done > 0 => {
                Some(Ok(Ret::Size(*done)))
            }
            // Linux never restarts these.
            Syscall::Poll { .. } | Syscall::PollFds { .. } | Syscall::SigSuspend { .. } => {
                Some(Err(Errno::EINTR))
            }
            _ if restart => None,
            _ => Some(Err(Errno::EINTR)),
        }
    }

    pub(super) fn sigaction(&mut self, pid: Pid, sig: i32, action: SigAction) -> KResult<()> {
        if !(1..=signal::NSIG).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        if signal::UNBLOCKABLE & signal::bit(sig) != 0 && action.disposition != Disposition::Default
        {
            return Err(Errno::EINVAL);
        }
        let p = self.procs.get_mut(pid).unwrap();
        *p.sig_mut().action_mut(sig) = action;
        // Setting a pending signal to ignored discards it (POSIX).
        let ignored = action.disposition == Disposition::Ignore
            || (action.disposition == Disposition::Default
                && signal::default_action(sig) == DefaultAction::Ignore);
        if ignored {
            p.sig_mut().pending &= !signal::bit(sig);
        }
        Ok(())
    }

    pub(super) fn sigprocmask(&mut self, pid: Pid, how: i32, set: u64) -> KResult<u64> {
        let sig = self.procs.get_mut(pid).unwrap().sig_mut();
        let old = sig.blocked;
        sig.blocked = match how {
            SIG_BLOCK => old | set,
            SIG_UNBLOCK => old & !set,
            SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        } & !signal::UNBLOCKABLE;
        self.after_unblock(pid);
        Ok(old)
    }

    pub(super) fn sigpending(&self, pid: Pid) -> Outcome {
        let pending = self.procs.get(pid).unwrap().sig().pending;
        Outcome::Ready(Ok(Ret::SigSet(pending)))
    }

    pub(super) fn sigignored(&self, pid: Pid) -> Outcome {
        let sig = self.procs.get(pid).unwrap().sig();
        let ignored = (1..=signal::NSIG)
            .filter(|s| sig.action(*s).disposition == Disposition::Ignore)
            .fold(0, |set, s| set | signal::bit(s));
        Outcome::Ready(Ok(Ret::SigSet(ignored)))
    }

    /// Waits with `mask` in place until a caught signal is due; the old
    /// mask comes back when its handler has run (`sig_next`).
    pub(super) fn sigsuspend(&mut self, pid: Pid, mask: Option<u64>) -> Outcome {
        let p = self.procs.get_mut(pid).unwrap();
        let sig = p.sig_mut();
        if sig.suspend_saved.is_none() {
            sig.suspend_saved = Some(sig.blocked);
            if let Some(mask) = mask {
                sig.blocked = mask & !signal::UNBLOCKABLE;
            }
        }
        if p.sig().deliverable() != 0 {
            Outcome::Ready(Err(Errno::EINTR))
        } else {
            Outcome::Block(vec![p.sig_events().key()])
        }
    }

    /// A handler returned: its mask goes back in place.
    pub(super) fn sigreturn(&mut self, pid: Pid, mask: u64) -> Outcome {
        self.procs.get_mut(pid).unwrap().sig_mut().blocked = mask & !signal::UNBLOCKABLE;
        self.after_unblock(pid);
        Outcome::Ready(Ok(Ret::Unit))
    }

    /// Unblocking may make pending signals due: fatal defaults kill now,
    /// caught ones run at the end of this call.
    pub(super) fn after_unblock(&mut self, pid: Pid) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        let due = p.sig().deliverable();
        for sig in 1..=signal::NSIG {
            if due & signal::bit(sig) != 0
                && p.sig().action(sig).disposition == Disposition::Default
            {
                p.sig_mut().pending &= !signal::bit(sig);
                if signal::default_action(sig) == DefaultAction::Stop {
                    self.stop(pid, sig);
                } else {
                    p.mark_killed(sig);
                    self.actions.push(Action::Terminate { pid, sig });
                }
                return;
            }
        }
        if due != 0 {
            p.sig_events().notify();
        }
    }

    /// Takes the next deliverable caught signal and blocks what its handler
    /// needs blocked; returns it and the mask to restore afterwards.
    pub(super) fn sig_next(&mut self, pid: Pid) -> Option<(i32, u64)> {
        let sig = self.procs.get_mut(pid).unwrap().sig_mut();
        let due = sig.deliverable();
        let signo = (1..=signal::NSIG).find(|s| due & signal::bit(*s) != 0)?;
        sig.pending &= !signal::bit(signo);
        let action = sig.action(signo);
        let restore = sig.suspend_saved.take().unwrap_or(sig.blocked);
        let mut add = action.mask;
        if action.flags & signal::SA_NODEFER == 0 {
            add |= signal::bit(signo);
        }
        sig.blocked = (sig.blocked | add) & !signal::UNBLOCKABLE;
        if action.flags & signal::SA_RESETHAND != 0 {
            *sig.action_mut(signo) = SigAction::default();
        }
        Some((signo, restore))
    }
}
