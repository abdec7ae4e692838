//! Per-process interval timers (`setitimer(ITIMER_REAL)`, `alarm`).
//!
//! Each process has at most one real-time timer. The kernel does not run a
//! clock of its own: the service thread asks for [`ITimers::next_deadline`]
//! and calls [`ITimers::expire`] when it passes, so an armed timer costs
//! nothing between expiries and a disarmed one nothing at all.
//!
//! Invariant: `queue` holds exactly one `(deadline, pid)` entry for each
//! entry of `armed`, with the same deadline.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::process::Pid;

/// A timer's setting, as `struct itimerval` holds it: `value` is the time
/// to the next expiry (zero: disarmed), `interval` the reload after each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ITimerVal {
    pub interval: Duration,
    pub value: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Armed {
    deadline: Instant,
    interval: Duration,
}

#[derive(Debug, Default)]
pub struct ITimers {
    armed: HashMap<Pid, Armed>,
    queue: BTreeSet<(Instant, Pid)>,
}

impl ITimers {
    /// Arms (or, with a zero value, disarms) `pid`'s timer; returns the old
    /// setting.
    pub fn set(&mut self, pid: Pid, now: Instant, new: ITimerVal) -> ITimerVal {
        let old = self.get(pid, now);
        self.clear(pid);
        if !new.value.is_zero() {
            let deadline = now + new.value;
            self.armed.insert(
                pid,
                Armed {
                    deadline,
                    interval: new.interval,
                },
            );
            self.queue.insert((deadline, pid));
        }
        old
    }

    /// `pid`'s current setting: the time left and the interval.
    pub fn get(&self, pid: Pid, now: Instant) -> ITimerVal {
        match self.armed.get(&pid) {
            None => ITimerVal::default(),
            Some(a) => ITimerVal {
                interval: a.interval,
                // An expired timer not yet serviced is about to fire; Linux
                // reports such a timer as (nearly) due, never as disarmed.
                value: a
                    .deadline
                    .saturating_duration_since(now)
                    .max(Duration::from_micros(1)),
            },
        }
    }

    /// Disarms `pid`'s timer (exit, or a zero setting).
    pub fn clear(&mut self, pid: Pid) {
        if let Some(a) = self.armed.remove(&pid) {
            self.queue.remove(&(a.deadline, pid));
        }
    }

    /// When the next timer expires.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue.first().map(|(d, _)| *d)
    }

    /// Takes every timer due at `now`, reloading periodic ones; returns the
    /// pids to signal. A periodic timer that fell behind fires once and is
    /// reloaded from `now`: like pending signals, missed expiries collapse.
    pub fn expire(&mut self, now: Instant) -> Vec<Pid> {
        let mut fired = Vec::new();
        while let Some(&(deadline, pid)) = self.queue.first() {
            if deadline > now {
                break;
            }
            self.queue.pop_first();
            fired.push(pid);
            let Some(a) = self.armed.get_mut(&pid) else {
                continue;
            };
            if a.interval.is_zero() {
                self.armed.remove(&pid);
                continue;
            }
            let mut next = deadline + a.interval;
            if next <= now {
                next = now + a.interval;
            }
            a.deadline = next;
            self.queue.insert((next, pid));
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn one_shot_fires_once_and_disarms() {
        let t0 = Instant::now();
        let mut t = ITimers::default();
        let old = t.set(
            1,
            t0,
            ITimerVal {
                interval: Duration::ZERO,
                value: ms(50),
            },
        );
        assert_eq!(old, ITimerVal::default());
        assert_eq!(t.next_deadline(), Some(t0 + ms(50)));
        assert!(t.expire(t0 + ms(49)).is_empty());
        assert_eq!(t.get(1, t0 + ms(20)).value, ms(30));
        assert_eq!(t.expire(t0 + ms(50)), vec![1]);
        assert_eq!(t.next_deadline(), None);
        assert_eq!(t.get(1, t0 + ms(60)), ITimerVal::default());
    }

    #[test]
    fn periodic_reloads_without_drift_and_collapses_missed_expiries() {
        let t0 = Instant::now();
        let mut t = ITimers::default();
        let every = ITimerVal {
            interval: ms(20),
            value: ms(20),
        };
        t.set(7, t0, every);
        assert_eq!(t.expire(t0 + ms(25)), vec![7]);
        // Reloaded from the expiry time, not from when it was serviced.
        assert_eq!(t.next_deadline(), Some(t0 + ms(40)));
        // Far behind: one expiry, then reloaded from now.
        assert_eq!(t.expire(t0 + ms(200)), vec![7]);
        assert_eq!(t.next_deadline(), Some(t0 + ms(220)));
    }

    #[test]
    fn resetting_returns_the_old_value_and_zero_disarms() {
        let t0 = Instant::now();
        let mut t = ITimers::default();
        let a = ITimerVal {
            interval: ms(5),
            value: ms(100),
        };
        t.set(3, t0, a);
        t.set(4, t0, a);
        let old = t.set(3, t0 + ms(40), ITimerVal::default());
        assert_eq!(
            old,
            ITimerVal {
                interval: ms(5),
                value: ms(60)
            }
        );
        assert_eq!(t.expire(t0 + ms(100)), vec![4]);
        t.clear(4);
        assert_eq!(t.next_deadline(), None);
    }
}
