//! The process table: pids, parentage, groups and sessions, exit statuses.
//!
//! Pid 0 is the VM itself: guests the VM starts have parent 0, orphans
//! are re-parented to 0, and children of 0 are reaped by the VM as soon as
//! they exit (it learns of them through [`crate::Action::Exited`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::fd_table::FdTable;
use crate::pty::device::Pty;
use crate::signal::SigState;
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

/// One process, live or a zombie.
///
/// Invariants: a zombie's fd table is empty and it is never live again;
/// `killed` is set at most once, and a killed process makes no call but
/// its exit; a process in a session with a controlling terminal shares it
/// with every member (`ctty` is set and cleared session-wide); `pgid` names
/// a group of its own session.
#[derive(Debug)]
pub struct Process {
    pid: Pid,
    ppid: Pid,
    pgid: Pid,
    sid: Pid,
    name: String,
    state: ProcState,
    fds: FdTable,
    /// Absolute VFS path of the working directory the process started in.
    cwd: String,
    /// Notified when one of this process's children changes state.
    child_events: WaitQueue,
    /// Set once a fatal signal has been sent; the runtime unwinds the guest.
    killed: Option<i32>,
    sig: SigState,
    /// Stopped by a job-control signal; its calls wait for SIGCONT.
    stopped: bool,
    /// A stop or continue its parent has not collected with waitpid yet.
    wait_report: Option<WaitStatus>,
    /// The controlling terminal of the process's session.
    ctty: Option<Arc<Pty>>,
    /// Notified when a signal becomes deliverable (wakes `sigsuspend`).
    sig_events: WaitQueue,
}

impl Process {
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The parent's pid; 0 for the VM.
    pub fn ppid(&self) -> Pid {
        self.ppid
    }

    pub fn pgid(&self) -> Pid {
        self.pgid
    }

    pub fn sid(&self) -> Pid {
        self.sid
    }

    /// Short name for logs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames it (a new image after `execve`).
    pub fn set_name(&mut self, name: String) {
        self.name = name;
    }

    pub fn state(&self) -> ProcState {
        self.state
    }

    pub fn is_live(&self) -> bool {
        self.state == ProcState::Live
    }

    pub fn fds(&self) -> &FdTable {
        &self.fds
    }

    pub fn fds_mut(&mut self) -> &mut FdTable {
        &mut self.fds
    }

    /// The absolute VFS path of its working directory.
    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    pub fn set_cwd(&mut self, cwd: String) {
        self.cwd = cwd;
    }

    pub fn child_events(&self) -> &WaitQueue {
        &self.child_events
    }

    pub fn sig_events(&self) -> &WaitQueue {
        &self.sig_events
    }

    /// The fatal signal sent to it, if any.
    pub fn killed(&self) -> Option<i32> {
        self.killed
    }

    pub fn mark_killed(&mut self, sig: i32) {
        self.killed = Some(sig);
    }

    pub fn sig(&self) -> &SigState {
        &self.sig
    }

    pub fn sig_mut(&mut self) -> &mut SigState {
        &mut self.sig
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Stops it for `sig` and keeps the stop for its parent's waitpid;
    /// false if it was already stopped.
    pub fn mark_stopped(&mut self, sig: i32) -> bool {
        if self.stopped {
            return false;
        }
        self.stopped = true;
        self.wait_report = Some(WaitStatus::stopped(sig));
        true
    }

    /// Continues it (SIGCONT): its waiting calls retry, and its parent's
    /// waitpid can see it.
    pub fn mark_continued(&mut self) {
        self.stopped = false;
        self.wait_report = Some(WaitStatus::CONTINUED);
        self.sig_events.notify();
    }

    /// A stop or continue not yet collected by waitpid.
    pub fn wait_report(&self) -> Option<WaitStatus> {
        self.wait_report
    }

    pub fn take_wait_report(&mut self) -> Option<WaitStatus> {
        self.wait_report.take()
    }

    pub fn ctty(&self) -> Option<&Arc<Pty>> {
        self.ctty.as_ref()
    }

    /// Whether `tty` is its controlling terminal.
    pub fn has_ctty(&self, tty: &Arc<Pty>) -> bool {
        self.ctty.as_ref().is_some_and(|c| Arc::ptr_eq(c, tty))
    }

    pub fn set_ctty(&mut self, tty: Arc<Pty>) {
        self.ctty = Some(tty);
    }

    /// Forgets its controlling terminal, returning it.
    pub fn take_ctty(&mut self) -> Option<Arc<Pty>> {
        self.ctty.take()
    }

    pub fn join_group(&mut self, pgid: Pid) {
        self.pgid = pgid;
    }

    /// Leads a new session and group of its own, without a terminal.
    pub fn start_session(&mut self) {
        self.sid = self.pid;
        self.pgid = self.pid;
        self.ctty = None;
    }

    /// Its parent is gone: the VM adopts it.
    pub fn reparent_to_vm(&mut self) {
        self.ppid = 0;
    }

    /// Ends it with `status`: its fds close, and it stays for its parent.
    pub fn become_zombie(&mut self, status: WaitStatus) {
        self.fds.clear();
        self.state = ProcState::Zombie(status);
    }
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
            None => (pid, pid, SigState::default(), None),
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
