//! Interval timers: `setitimer`/`getitimer`, including the re-arms a guest
//! posts without waiting, and their expiry.

use std::time::Instant;

use sidecar_abi::consts::itimer::ITIMER_REAL;

use super::Kernel;
use crate::errno::Errno;
use crate::process::Pid;
use crate::signal;
use crate::syscall::{Outcome, Ret, Syscall};
use crate::timer::ITimerVal;

impl Kernel {
    /// `setitimer(which, new)`, or `getitimer(which)` without `new`.
    pub(super) fn itimer(&mut self, pid: Pid, which: i32, new: Option<ITimerVal>) -> Outcome {
        if which != ITIMER_REAL {
            return Outcome::Ready(Err(Errno::EINVAL));
        }
        let now = Instant::now();
        let old = match new {
            Some(v) => self.itimers.set(pid, now, v),
            None => self.itimers.get(pid, now),
        };
        Outcome::Ready(Ok(Ret::ITimer(old)))
    }

    /// Applies a call the guest did not wait for (`Msg::Post` in the
    /// runtime): only those that cannot fail or block qualify. It counts
    /// as made before any stop that raced with it.
    pub fn posted(&mut self, pid: Pid, call: Syscall) {
        match call {
            Syscall::ITimer {
                which: ITIMER_REAL,
                new: Some(v),
            } if self.procs.get(pid).is_some_and(|p| p.is_live()) => {
                self.itimers.set(pid, Instant::now(), v);
            }
            other => tracing::debug!(pid, ?other, "posted call ignored"),
        }
    }

    /// When the next interval timer expires (the service waits for it).
    pub fn next_timer(&self) -> Option<Instant> {
        self.itimers.next_deadline()
    }

    /// Signals the owners of the timers due at `now` (SIGALRM).
    pub fn fire_timers(&mut self, now: Instant) {
        for pid in self.itimers.expire(now) {
            self.send_signal(pid, signal::SIGALRM);
        }
    }
}
