//! Processes: spawn, wait, exit.

use sidecar_abi::consts::wait::{WCONTINUED, WNOHANG, WUNTRACED};

use super::Kernel;
use crate::errno::{Errno, KResult};
use crate::fd_table::FdEntry;
use crate::file::OpenFile;
use crate::process::{Pid, ProcState, Process, WaitStatus};
use crate::signal;
use crate::syscall::{oflag, ready, Outcome, Ret, SpawnAction, SpawnRequest};

impl Kernel {
    /// Finds the module a spawn will run: `path` from `cwd` (the caller's
    /// if `None`) after the spawn's `chdirs`.
    pub(super) fn resolve_program(
        &self,
        pid: Pid,
        path: &str,
        cwd: Option<&str>,
        chdirs: &[String],
    ) -> Outcome {
        let start = cwd.unwrap_or(self.procs.get(pid).unwrap().cwd()).to_owned();
        let r = chdirs
            .iter()
            .try_fold(start, |at, dir| self.vfs.resolve_dir(&at, dir))
            .and_then(|base| self.vfs.program(&base, path));
        ready(r, Ret::Program)
    }

    /// `posix_spawn`: the child exists first with its attributes applied
    /// (new session or group, signal state), then the file actions run in
    /// its context, then close-on-exec fds close, as with fork + exec.
    pub(super) fn spawn(&mut self, parent: Pid, req: &SpawnRequest) -> KResult<Pid> {
        self.check_process_limit()?;
        let p = self.procs.get(parent).unwrap();
        let cwd = match &req.attr.cwd {
            Some(c) => self.vfs.resolve_dir(p.cwd(), c)?,
            None => p.cwd().to_owned(),
        };
        let fds = p.fds().clone();
        let child = self
            .procs
            .create(parent, req.name.clone(), fds, cwd, &self.notifier);
        let c = self.procs.get_mut(child).unwrap();
        for sig in 1..=signal::NSIG {
            if req.attr.sigdefault & signal::bit(sig) != 0 {
                *c.sig_mut().action_mut(sig) = signal::SigAction::default();
            }
        }
        if let Some(mask) = req.attr.sigmask {
            c.sig_mut().blocked = mask & !signal::UNBLOCKABLE;
        }
        if req.attr.setsid {
            c.start_session();
        } else if let Some(g) = req.attr.pgroup {
            c.join_group(if g == 0 { child } else { g });
        }
        match self.spawn_actions(child, &req.actions) {
            Ok(()) => {
                self.fds_mut(child).close_on_exec();
                Ok(child)
            }
            Err(e) => {
                // Never ran: no zombie, no SIGCHLD.
                self.procs.remove(child);
                Err(e)
            }
        }
    }

    /// `fork`: the child shares the parent's open file descriptions (its
    /// fd table is a copy, close-on-exec flags included) and has its
    /// signal dispositions and mask, group, session, terminal and cwd; it
    /// has no pending signals and no interval timers (fork(2)).
    pub(super) fn fork(&mut self, parent: Pid) -> KResult<Pid> {
        self.check_process_limit()?;
        let p = self.procs.get(parent).unwrap();
        let (fds, cwd, name) = (p.fds().clone(), p.cwd().to_owned(), p.name().to_owned());
        let mut sig = p.sig().clone();
        sig.pending = 0;
        sig.suspend_saved = None;
        let child = self.procs.create(parent, name, fds, cwd, &self.notifier);
        *self.procs.get_mut(child).unwrap().sig_mut() = sig;
        Ok(child)
    }

    /// `execve` in place: the new image keeps the process (pid, parent,
    /// group, session, terminal, interval timers, signal mask and pending
    /// signals, cwd); close-on-exec fds close and caught signals revert to
    /// their default action, ignored ones stay ignored.
    pub(super) fn exec(&mut self, pid: Pid, name: &str, cwd: &str) -> KResult<()> {
        let p = self.procs.get(pid).unwrap();
        let cwd = self.vfs.resolve_dir(p.cwd(), cwd)?;
        let p = self.procs.get_mut(pid).unwrap();
        p.set_cwd(cwd);
        p.set_name(name.to_owned());
        let sig = p.sig_mut();
        let pending = sig.pending;
        *sig = sig.for_exec();
        // Pending signals stay pending, except those the new dispositions
        // discard (ignored, or ignored by default), so `pending` keeps
        // holding only signals that will act.
        for s in 1..=signal::NSIG {
            let acts = sig.action(s).disposition == signal::Disposition::Default
                && matches!(
                    signal::default_action(s),
                    signal::DefaultAction::Terminate | signal::DefaultAction::Stop
                );
            if pending & signal::bit(s) != 0 && acts {
                sig.pending |= signal::bit(s);
            }
        }
        p.fds_mut().close_on_exec();
        tracing::debug!(pid, name, "process image replaced (execve)");
        // A pending signal that was caught and is not blocked now takes
        // its default action.
        self.after_unblock(pid);
        Ok(())
    }

    fn spawn_actions(&mut self, child: Pid, actions: &[SpawnAction]) -> KResult<()> {
        for action in actions {
            match action {
                // Closing an fd that is not open is not an error (glibc, musl).
                SpawnAction::Close(fd) => drop(self.fds_mut(child).remove(*fd)),
                SpawnAction::Dup2 { fd, newfd } => {
                    let fds = self.fds_mut(child);
                    let entry = fds.get(*fd)?.clone();
                    if fd == newfd {
                        fds.get_mut(*fd)?.cloexec = false;
                    } else {
                        fds.install(*newfd, FdEntry::new(entry.file, false))?;
                    }
                }
                SpawnAction::Open {
                    newfd,
                    path,
                    oflag,
                    mode,
                } => {
                    let (flags, st) = super::open_flags(*oflag);
                    let cwd = self.procs.get(child).unwrap().cwd().to_owned();
                    let noctty = oflag & oflag::O_NOCTTY != 0;
                    let charge = self.files.charge()?;
                    let desc = self.open_desc(child, &cwd, path, flags, *mode, noctty)?;
                    let file = OpenFile::charged(desc, st, charge);
                    self.fds_mut(child)
                        .install(*newfd, FdEntry::new(file, false))?;
                }
                SpawnAction::Chdir(path) => {
                    let c = self.procs.get(child).unwrap();
                    let cwd = self.vfs.resolve_dir(c.cwd(), path)?;
                    self.procs.get_mut(child).unwrap().set_cwd(cwd);
                }
            }
        }
        Ok(())
    }

    pub(super) fn wait(&mut self, pid: Pid, which: Pid, options: u32) -> Outcome {
        // -INT_MIN names no group (Linux's kernel_wait4).
        if which == Pid::MIN {
            return Outcome::Ready(Err(Errno::ESRCH));
        }
        let me = self.procs.get(pid).unwrap();
        let my_pgid = me.pgid();
        let matches = |c: &Process| match which {
            -1 => true,
            0 => c.pgid() == my_pgid,
            p if p > 0 => c.pid() == p,
            p => c.pgid() == -p,
        };
        let mut any = false;
        let mut zombie = None;
        for c in self.procs.children(pid) {
            if !matches(c) {
                continue;
            }
            any = true;
            if let ProcState::Zombie(st) = c.state() {
                zombie = Some((c.pid(), st));
                break;
            }
        }
        if let Some((child, status)) = zombie {
            self.procs.remove(child);
            return Outcome::Ready(Ok(Ret::Waited { pid: child, status }));
        }
        if !any {
            return Outcome::Ready(Err(Errno::ECHILD));
        }
        let report = self
            .procs
            .children(pid)
            .filter(|c| matches(c))
            .find_map(|c| match c.wait_report() {
                Some(st) if st == WaitStatus::CONTINUED && options & WCONTINUED != 0 => {
                    Some((c.pid(), st))
                }
                Some(st) if st != WaitStatus::CONTINUED && options & WUNTRACED != 0 => {
                    Some((c.pid(), st))
                }
                _ => None,
            });
        if let Some((child, status)) = report {
            self.procs.get_mut(child).unwrap().take_wait_report();
            return Outcome::Ready(Ok(Ret::Waited { pid: child, status }));
        }
        if options & WNOHANG != 0 {
            return Outcome::Ready(Ok(Ret::Waited {
                pid: 0,
                status: WaitStatus(0),
            }));
        }
        Outcome::Block(vec![me.child_events().key()])
    }

    pub(super) fn getppid(&self, pid: Pid) -> Outcome {
        Outcome::Ready(Ok(Ret::Pid(self.procs.get(pid).unwrap().ppid())))
    }

    pub(super) fn initial_cwd(&self, pid: Pid) -> Outcome {
        let cwd = self.procs.get(pid).unwrap().cwd().to_owned();
        Outcome::Ready(Ok(Ret::Text(cwd)))
    }

    /// Ends `pid`: closes its fds (peers see EOF/EPIPE), makes it a zombie
    /// for its parent, and hands its children to the VM.
    pub fn exit(&mut self, pid: Pid, status: WaitStatus) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        if !p.is_live() {
            return;
        }
        p.become_zombie(status);
        self.itimers.clear(pid);
        // A controlling process that exits takes its terminal with it:
        // SIGHUP to the foreground group, and the tty is free again.
        let ctty = (p.sid() == pid).then(|| p.take_ctty()).flatten();
        let ppid = p.ppid();
        tracing::debug!(pid, name = %p.name(), status = status.0, "process exited");
        if let Some(tty) = ctty {
            if tty.session() == Some(pid) {
                let fg = tty.foreground();
                self.release_ctty(pid, &tty);
                if let Some(g) = fg {
                    self.signal_group(g, signal::SIGHUP);
                }
            }
        }
        for child in self
            .procs
            .children(pid)
            .map(|c| c.pid())
            .collect::<Vec<_>>()
        {
            let c = self.procs.get_mut(child).unwrap();
            c.reparent_to_vm();
            if let ProcState::Zombie(st) = c.state() {
                self.procs.remove(child);
                tracing::debug!(pid = child, status = st.0, "orphan reaped");
            }
        }
        match self.procs.get(ppid) {
            Some(parent) => {
                parent.child_events().notify();
                self.send_signal(ppid, signal::SIGCHLD);
            }
            None => {
                self.procs.remove(pid);
                self.actions
                    .push(crate::action::Action::Exited { pid, status });
            }
        }
    }

    /// Forgets a spawned process whose guest never started: no zombie, no
    /// SIGCHLD, nothing for `wait`. It ran no code, so it has no children,
    /// timers or terminal of its own to hand on.
    pub(super) fn unspawn(&mut self, pid: Pid) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        if !p.is_live() {
            return;
        }
        p.fds_mut().clear();
        self.itimers.clear(pid);
        tracing::debug!(pid, name = %p.name(), "spawned process never started");
        for child in self
            .procs
            .children(pid)
            .map(|c| c.pid())
            .collect::<Vec<_>>()
        {
            self.procs.get_mut(child).unwrap().reparent_to_vm();
        }
        self.procs.remove(pid);
    }

    /// Pids of every live process (for VM shutdown).
    pub fn live_pids(&self) -> Vec<Pid> {
        self.procs
            .iter()
            .filter(|p| p.is_live())
            .map(|p| p.pid())
            .collect()
    }
}
