//! The service thread's loop: take the next message (or wake for the
//! earliest deadline), handle it, then fire what is due and retry what was
//! woken until the kernel is quiet.

use std::time::Instant;

use super::deadline::{is_due, next_wake};
use super::Service;
use crate::rpc::Msg;

impl Service {
    /// Serves until [`Msg::Shutdown`] or every sender of the request
    /// channel is gone.
    pub fn run(mut self) {
        loop {
            let next = next_wake(self.parked.next_deadline(), self.kernel.next_timer());
            let Ok(msg) = crate::spin::recv(&self.rx, next, &crate::spin::SERVICE) else {
                break;
            };
            match msg {
                Some(Msg::Shutdown) => break,
                Some(m) => self.handle(m),
                None => {}
            }
            // Checked after messages too: a steady stream of calls must not
            // hold back a timeout or a timer.
            if is_due(next, Instant::now()) {
                self.expire();
            }
            self.settle();
            if self.drain.is_some() && self.kernel.bridges_drained() {
                let _ = self.drain.take().map(|d| d.send(()));
            }
        }
        // What the VM made in its folders for `connect-out` goes with it.
        self.kernel.remove_outlets();
    }

    /// Fires due interval timers and retries every parked call whose
    /// deadline has passed, earliest deadline first.
    fn expire(&mut self) {
        let now = Instant::now();
        self.kernel.fire_timers(now);
        for id in self.parked.due(now) {
            if let Some(p) = self.unpark(id) {
                self.attempt(p.pid, p.call);
            }
        }
    }

    /// Applies kernel actions and retries woken calls until nothing changes.
    fn settle(&mut self) {
        loop {
            // Host input to a terminal (^C, a resize) raises signals too.
            self.kernel.drain_tty_events();
            let actions = self.kernel.take_actions();
            let keys = self.kernel.notifier().drain();
            if actions.is_empty() && keys.is_empty() {
                return;
            }
            for a in actions {
                self.act(a);
            }
            if keys.is_empty() {
                continue;
            }
            self.kernel.on_wakeup(&keys);
            // Exactly the calls waiting on a notified key, oldest first.
            for id in self.parked.woken(&keys) {
                if let Some(p) = self.unpark(id) {
                    self.attempt(p.pid, p.call);
                }
            }
        }
    }
}
