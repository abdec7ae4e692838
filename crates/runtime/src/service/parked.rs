//! Parked calls: kernel calls that would block, waiting for a wait key to
//! be notified or for their deadline.
//!
//! Every parked call gets an id from a counter, so ids are in parking
//! order: the oldest call has the smallest id. A call is indexed by each
//! of its wait keys and by its deadline, and [`ParkedCalls::unpark`] takes
//! it out of every index at once, so a call is retried at most once per
//! wakeup however many of its keys were notified.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use sidecar_kernel::wait::WaitKey;
use sidecar_kernel::Pid;

use super::deadline::Deadlines;

/// One parked call (a `Syscall` in the service; anything in tests).
#[derive(Debug)]
pub(super) struct Parked<C> {
    pub(super) pid: Pid,
    pub(super) call: C,
    keys: Vec<WaitKey>,
    deadline: Option<Instant>,
}

/// The parked calls of a VM, indexed by wait key and by deadline. Owned
/// by the service thread.
#[derive(Debug)]
pub(super) struct ParkedCalls<C> {
    calls: HashMap<u64, Parked<C>>,
    by_key: HashMap<WaitKey, Vec<u64>>,
    deadlines: Deadlines,
    next_id: u64,
}

impl<C> Default for ParkedCalls<C> {
    fn default() -> Self {
        ParkedCalls {
            calls: HashMap::new(),
            by_key: HashMap::new(),
            deadlines: Deadlines::default(),
            next_id: 0,
        }
    }
}

impl<C> ParkedCalls<C> {
    /// Parks `call` of `pid` until one of `keys` is notified or `deadline`
    /// passes; returns its id.
    pub(super) fn park(
        &mut self,
        pid: Pid,
        call: C,
        keys: Vec<WaitKey>,
        deadline: Option<Instant>,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        for k in &keys {
            self.by_key.entry(*k).or_default().push(id);
        }
        if let Some(d) = deadline {
            self.deadlines.insert(d, id);
        }
        self.calls.insert(
            id,
            Parked {
                pid,
                call,
                keys,
                deadline,
            },
        );
        id
    }

    /// Takes call `id` out of every index; `None` if it is not parked.
    pub(super) fn unpark(&mut self, id: u64) -> Option<Parked<C>> {
        let p = self.calls.remove(&id)?;
        for k in &p.keys {
            if let Some(ids) = self.by_key.get_mut(k) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
        if let Some(d) = p.deadline {
            self.deadlines.remove(d, id);
        }
        Some(p)
    }

    /// The calls waiting on any of `keys`, oldest first, each once.
    pub(super) fn woken(&self, keys: &HashSet<WaitKey>) -> Vec<u64> {
        let mut woken: Vec<u64> = keys
            .iter()
            .filter_map(|k| self.by_key.get(k))
            .flatten()
            .copied()
            .collect();
        // Oldest first, so wakeups stay fair.
        woken.sort_unstable();
        woken.dedup();
        woken
    }

    /// The earliest deadline of a parked call.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first()
    }

    /// The calls whose deadline is `now` or earlier, earliest first.
    pub(super) fn due(&self, now: Instant) -> Vec<u64> {
        self.deadlines.due(now)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.calls.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn keys(ks: &[WaitKey]) -> HashSet<WaitKey> {
        ks.iter().copied().collect()
    }

    /// A notified key wakes exactly the calls waiting on it, oldest first,
    /// and each call once even when several of its keys were notified.
    #[test]
    fn a_notified_key_wakes_exactly_its_calls_oldest_first() {
        let (a, b, c) = (WaitKey::fresh(), WaitKey::fresh(), WaitKey::fresh());
        let mut p = ParkedCalls::default();
        let first = p.park(1, "read a", vec![a], None);
        let other = p.park(2, "read b", vec![b], None);
        let both = p.park(3, "poll a b", vec![a, b], None);
        let second = p.park(4, "read a", vec![a], None);
        assert!(first < other && other < both && both < second);

        assert_eq!(p.woken(&keys(&[c])), Vec::<u64>::new());
        assert_eq!(p.woken(&keys(&[a])), vec![first, both, second]);
        assert_eq!(p.woken(&keys(&[b])), vec![other, both]);
        assert_eq!(p.woken(&keys(&[b, a])), vec![first, other, both, second]);
        // Looking does not unpark.
        assert_eq!(p.len(), 4);

        // Unparked (retried and completed) calls are no longer woken.
        let got = p.unpark(first).unwrap();
        assert_eq!((got.pid, got.call), (1, "read a"));
        assert!(p.unpark(first).is_none());
        p.unpark(both).unwrap();
        assert_eq!(p.woken(&keys(&[a, b])), vec![other, second]);

        // A retried call that blocks again parks anew, behind older calls.
        let again = p.park(1, "read a", vec![a], None);
        assert_eq!(p.woken(&keys(&[a])), vec![second, again]);
        p.unpark(second).unwrap();
        p.unpark(again).unwrap();
        p.unpark(other).unwrap();
        assert!(p.by_key.is_empty(), "no key index left behind");
    }

    /// Calls with deadlines come due in deadline order; unparking a call
    /// (woken by a key first) drops its deadline.
    #[test]
    fn parked_deadlines_come_due_in_deadline_order() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let k = WaitKey::fresh();
        let mut p = ParkedCalls::default();
        let late = p.park(1, "poll 300", vec![k], Some(ms(300)));
        let never = p.park(2, "read", vec![k], None);
        let early = p.park(3, "sleep 100", vec![], Some(ms(100)));
        let mid = p.park(4, "sleep 200", vec![], Some(ms(200)));
        assert_eq!(p.next_deadline(), Some(ms(100)));
        assert_eq!(p.due(ms(99)), Vec::<u64>::new());
        assert_eq!(p.due(ms(250)), vec![early, mid]);
        assert_eq!(p.due(ms(1000)), vec![early, mid, late]);
        // Woken by its key before its deadline: no deadline remains.
        p.unpark(late).unwrap();
        assert_eq!(p.due(ms(1000)), vec![early, mid]);
        p.unpark(early).unwrap();
        assert_eq!(p.next_deadline(), Some(ms(200)));
        p.unpark(mid).unwrap();
        assert_eq!(p.next_deadline(), None);
        assert_eq!(p.woken(&keys(&[k])), vec![never]);
        assert_eq!(p.deadlines.len(), 0);
    }
}
