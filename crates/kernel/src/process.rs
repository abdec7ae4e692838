//! The process table: pids, parentage, groups and sessions, exit statuses.
//!
//! Invariants: a process is either live or a zombie; a zombie's fd table is
//! empty. Pid 0 is the VM itself: guests the VM starts have parent 0, orphans
//! are re-parented to 0, and children of 0 are reaped by the VM as soon as
//! they exit (it learns of them through [`crate::Action::Exited`]).

use std::collections::BTreeMap;

use crate::fd_table::FdTable;
use crate::wait::{Notifier, WaitQueue};

pub type Pid = i32;

/// A Linux wait status: `code << 8` for an exit, the signal number for a
/// kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    pub fn exited(code: i32) -> WaitStatus {
        WaitStatus((code & 0xff) << 8)
    }

    pub fn signaled(sig: i32) -> WaitStatus {
        WaitStatus(sig & 0x7f)
    }

    /// Stopped by `sig` (`WIFSTOPPED`).
    pub fn stopped(sig: i32) -> WaitStatus {
        WaitStatus((sig << 8) | 0x7f)
    }

    /// Resumed by SIGCONT (`WIFCONTINUED`).
    pub const CONTINUED: WaitStatus = WaitStatus(0xffff);

    /// The status a shell reports: the exit code, or 128 + the signal.
    pub fn shell_code(self) -> i32 {
        match self.signal() {
            Some(sig) => 128 + sig,
            None => (self.0 >> 8) & 0xff,
        }
    }

    pub fn signal(self) -> Option<i32> {
        let sig = self.0 & 0x7f;
        (sig != 0 && sig != 0x7f).then_some(sig)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcState {
    Live,
    Zombie(WaitStatus),
}

#[derive(Debug)]
pub struct Process {
    pub pid: Pid,
    pub ppid: Pid,
    pub pgid: Pid,
    pub sid: Pid,
    pub name: String,
    pub state: ProcState,
    pub fds: FdTable,
    /// Absolute VFS path of the working directory the process started in.
    pub cwd: String,
    /// Notified when one of this process's children changes state.
    pub child_events: WaitQueue,
    /// Set once a fatal signal has been sent; the runtime unwinds the guest.
    pub killed: Option<i32>,
    pub sig: crate::signal::SigState,
    /// Stopped by a job-control signal; its calls wait for SIGCONT.
    pub stopped: bool,
    /// A stop or continue its parent has not collected with waitpid yet.
    pub wait_report: Option<WaitStatus>,
    /// The controlling terminal of the process's session.
    pub ctty: Option<std::sync::Arc<crate::pty::device::Pty>>,
    /// Notified when a signal becomes deliverable (wakes `sigsuspend`).
    pub sig_events: WaitQueue,
}

#[derive(Debug, Default)]
pub struct ProcessTable {
    procs: BTreeMap<Pid, Process>,
    next_pid: Pid,
}

impl ProcessTable {
    pub fn new() -> ProcessTable {
        ProcessTable {
            procs: BTreeMap::new(),
            next_pid: 1,
        }
    }

    /// A new live process in its parent's group and session (or a new session
    /// of its own when the parent is the VM).
    pub fn create(
        &mut self,
        ppid: Pid,
        name: String,
        fds: FdTable,
        cwd: String,
        notifier: &Notifier,
    ) -> Pid {
        let pid = self.next_pid;
        self.next_pid += 1;
        let (pgid, sid, sig, ctty) = match self.procs.get(&ppid) {
            Some(p) => (p.pgid, p.sid, p.sig.for_exec(), p.ctty.clone()),
            None => (pid, pid, crate::signal::SigState::default(), None),
        };
        self.procs.insert(
            pid,
            Process {
                pid,
                ppid,
                pgid,
                sid,
                name,
                state: ProcState::Live,
                fds,
                cwd,
                child_events: WaitQueue::new(notifier),
                killed: None,
                sig,
                sig_events: WaitQueue::new(notifier),
                stopped: false,
                wait_report: None,
                ctty,
            },
        );
        pid
    }

    pub fn get(&self, pid: Pid) -> Option<&Process> {
        self.procs.get(&pid)
    }

    pub fn get_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.procs.get_mut(&pid)
    }

    pub fn remove(&mut self, pid: Pid) -> Option<Process> {
        self.procs.remove(&pid)
    }

    /// How many processes exist, zombies included (they hold their pid
    /// until reaped, as Linux counts them against `pids.max`).
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Process> {
        self.procs.values()
    }

    pub fn pids(&self) -> Vec<Pid> {
        self.procs.keys().copied().collect()
    }

    pub fn children(&self, ppid: Pid) -> impl Iterator<Item = &Process> {
        self.procs.values().filter(move |p| p.ppid == ppid)
    }

    /// Whether any live process is in group `pgid`.
    pub fn group_exists(&self, pgid: Pid) -> bool {
        self.procs.values().any(|p| p.pgid == pgid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_encodings_match_linux() {
        assert_eq!(WaitStatus::exited(42).0, 42 << 8);
        assert_eq!(WaitStatus::exited(42).shell_code(), 42);
        assert_eq!(WaitStatus::signaled(15).0, 15);
        assert_eq!(WaitStatus::signaled(24).shell_code(), 152);
        assert_eq!(WaitStatus::exited(0).signal(), None);
    }

    #[test]
    fn children_inherit_group_and_session() {
        let n = Notifier::new();
        let mut t = ProcessTable::new();
        let a = t.create(0, "a".into(), FdTable::new(), "/".into(), &n);
        let b = t.create(a, "b".into(), FdTable::new(), "/".into(), &n);
        assert_eq!(t.get(a).unwrap().sid, a);
        assert_eq!(t.get(b).unwrap().pgid, a);
        assert_eq!(t.children(a).count(), 1);
    }
}
