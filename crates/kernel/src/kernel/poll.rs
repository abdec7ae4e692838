//! Readiness: WASI `poll_oneoff` subscriptions and Linux `poll(2)`.

use std::time::Instant;

use super::Kernel;
use crate::errno::Errno;
use crate::file::poll::*;
use crate::process::Pid;
use crate::syscall::{Outcome, PollEvent, PollEventKind, PollKind, PollSub, Ret};

impl Kernel {
    pub(super) fn poll(&mut self, pid: Pid, subs: &[PollSub]) -> Outcome {
        let now = Instant::now();
        let mut events = Vec::new();
        let mut keys = Vec::new();
        for sub in subs {
            let (fd, kind) = match sub.kind {
                PollKind::Clock { deadline } => {
                    if now >= deadline {
                        events.push(PollEvent {
                            userdata: sub.userdata,
                            error: None,
                            kind: PollEventKind::Clock,
                            nbytes: 0,
                            hangup: false,
                        });
                    }
                    continue;
                }
                PollKind::Read(fd) => (fd, PollEventKind::Read),
                PollKind::Write(fd) => (fd, PollEventKind::Write),
            };
            let mut ev = PollEvent {
                userdata: sub.userdata,
                error: None,
                kind,
                nbytes: 0,
                hangup: false,
            };
            let f = match self.file(pid, fd) {
                Ok(f) => f,
                Err(e) => {
                    ev.error = Some(e);
                    events.push(ev);
                    continue;
                }
            };
            let mask = f.desc.poll();
            ev.hangup = mask & POLLHUP != 0;
            let is_ready = match kind {
                PollEventKind::Read => {
                    ev.nbytes = f.desc.bytes_readable().unwrap_or(0) as u64;
                    mask & (POLLIN | POLLHUP | POLLERR) != 0
                }
                _ => {
                    if mask & POLLERR != 0 {
                        ev.error = Some(Errno::EPIPE);
                    }
                    mask & (POLLOUT | POLLHUP | POLLERR) != 0
                }
            };
            if is_ready {
                events.push(ev);
            } else {
                keys.extend(f.desc.wait_keys());
            }
        }
        if events.is_empty() {
            Outcome::Block(keys)
        } else {
            Outcome::Ready(Ok(Ret::Events(events)))
        }
    }

    /// Linux `poll(2)` semantics over any descriptions.
    pub(super) fn poll_fds(
        &mut self,
        pid: Pid,
        fds: &[(i32, u16)],
        deadline: Option<Instant>,
    ) -> Outcome {
        let mut revents = Vec::with_capacity(fds.len());
        let mut keys = Vec::new();
        let mut any = false;
        for &(fd, events) in fds {
            if fd < 0 {
                revents.push(0);
                continue;
            }
            let r = match self.file(pid, fd) {
                Err(_) => POLLNVAL,
                Ok(f) => {
                    let mut m = f.desc.poll();
                    if m & POLLIN != 0 {
                        m |= POLLRDNORM;
                    }
                    if m & POLLOUT != 0 {
                        m |= POLLWRNORM;
                    }
                    keys.extend(f.desc.wait_keys());
                    m & (events | POLLERR | POLLHUP)
                }
            };
            any |= r != 0;
            revents.push(r);
        }
        if any || deadline.is_some_and(|d| Instant::now() >= d) {
            Outcome::Ready(Ok(Ret::Revents(revents)))
        } else {
            Outcome::Block(keys)
        }
    }
}
