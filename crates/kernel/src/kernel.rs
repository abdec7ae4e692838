//! The kernel: every process, the VFS, and the dispatch of [`Syscall`]s.
//!
//! Owned by exactly one thread (the runtime's service thread), which is why
//! nothing here takes a lock for longer than one object operation. Lock order
//! when two are held: a description's own mutex, then the notifier's.

use std::sync::Arc;
use std::time::Instant;

use crate::errno::{Errno, KResult};
use crate::fd_table::{FdEntry, FdTable};
use crate::file::{status, FileType, OpenFile};
use crate::host::{HostOutput, HostStream};
use crate::pipe::pipe;
use crate::process::{Pid, ProcState, ProcessTable, WaitStatus};
use crate::pty::device::{PtySlave, PtyTable, TtyEvent, TtyEvents};
use crate::signal::{self, DefaultAction};
use crate::syscall::*;
use crate::vfs::{OpenFlags, Vfs};
use crate::wait::{Notifier, WaitKey};

/// Things the runtime must do after a call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Unwind guest `pid` (a parked call of it completes with "killed").
    Terminate { pid: Pid, sig: i32 },
    /// A process started by the VM has exited and was reaped.
    Exited { pid: Pid, status: WaitStatus },
    /// Host stdin data was all handed to the guest pipe; send more.
    StdinCredit,
    /// A caught signal became deliverable to `pid`: a parked call of it must
    /// end (EINTR) or restart so that the handler can run.
    Interrupt { pid: Pid },
    /// `pid` was stopped: running wasm must reach a stop point.
    Stop { pid: Pid },
    /// Guest bytes for a bridge's host side; no more until acknowledged.
    BridgeData {
        id: crate::unix::bridge::BridgeId,
        data: Vec<u8>,
    },
    /// The guest will send no more on this bridge.
    BridgeEof { id: crate::unix::bridge::BridgeId },
    /// A bridge has moved `consumed` host bytes in all into the guest
    /// socket; the host may have that many plus its window in flight.
    BridgeCredit {
        id: crate::unix::bridge::BridgeId,
        consumed: u64,
    },
    /// A guest connected to a `connect-out` path: connect bridge `id` to the
    /// host socket `host`.
    BridgeOpen {
        id: crate::unix::bridge::BridgeId,
        host: String,
    },
}

/// How a VM-level guest's standard stream is connected.
#[derive(Debug, Clone)]
pub enum Stdio {
    /// The host's own stream (stdin is fed through [`Kernel::host_stdin`]).
    Inherit,
    Null,
    /// A host file (not a VFS path); truncated for output.
    HostFile(std::path::PathBuf),
    Open(Arc<OpenFile>),
    /// A new PTY whose slave is the guest's controlling terminal and whose
    /// master is bridged to the host terminal.
    Tty(crate::pty::termios::Winsize),
}

/// What the VM knows about a guest it starts.
#[derive(Debug, Clone)]
pub struct InitSpec {
    pub name: String,
    /// Absolute VFS path.
    pub cwd: String,
    pub stdio: [Stdio; 3],
}

/// Per-VM resource limits the kernel enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Processes that may exist at once, zombies included (cgroup
    /// `pids.max`); a spawn beyond it fails with `EAGAIN`.
    pub processes: usize,
    /// Files opened by path (on any filesystem) that may be open at once
    /// across the VM (`fs.file-max`); an open beyond it fails with `ENFILE`.
    pub files: usize,
}

impl Limits {
    pub const DEFAULT_PROCESSES: usize = 1024;
    pub const DEFAULT_FILES: usize = 4096;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            processes: Limits::DEFAULT_PROCESSES,
            files: Limits::DEFAULT_FILES,
        }
    }
}

/// The one interval timer `setitimer` supports.
pub const ITIMER_REAL: i32 = 0;

/// Waitpid option bits (Linux).
pub const WNOHANG: u32 = 1;

#[derive(Debug)]
pub struct Kernel {
    pub vfs: Vfs,
    pub(crate) procs: ProcessTable,
    pub(crate) notifier: Notifier,
    pub(crate) actions: Vec<Action>,
    stdin: HostStdin,
    pub(crate) unix: crate::unix::Namespace,
    pub(crate) bridges: crate::unix::bridge::Bridges,
    ptys: Arc<std::sync::Mutex<PtyTable>>,
    tty_events: TtyEvents,
    itimers: crate::timer::ITimers,
    limits: Limits,
    pub(crate) files: crate::file::FileCount,
}

/// Host stdin, fed to guests through a pipe whose write end the kernel holds.
#[derive(Debug, Default)]
struct HostStdin {
    reader: Option<Arc<OpenFile>>,
    writer: Option<Arc<OpenFile>>,
    pending: std::collections::VecDeque<u8>,
    eof: bool,
}

impl Kernel {
    pub fn new(mut vfs: Vfs) -> Kernel {
        let notifier = Notifier::new();
        let ptys: Arc<std::sync::Mutex<PtyTable>> = Arc::default();
        let tty_events: TtyEvents = Arc::default();
        {
            let (ptys, events, notifier) = (ptys.clone(), tty_events.clone(), notifier.clone());
            vfs.register_device(
                "ptmx",
                Box::new(move || {
                    let m = ptys.lock().unwrap().open_master(&notifier, &events);
                    Ok(m as Arc<dyn crate::file::FileDescription>)
                }),
            );
        }
        Kernel {
            vfs,
            procs: ProcessTable::new(),
            notifier,
            actions: Vec::new(),
            stdin: HostStdin::default(),
            unix: crate::unix::Namespace::default(),
            bridges: Default::default(),
            ptys,
            tty_events,
            itimers: Default::default(),
            limits: Limits::default(),
            files: crate::file::FileCount::new(Limits::DEFAULT_FILES),
        }
    }

    /// Sets the VM's limits; made before any process exists.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.files = crate::file::FileCount::new(limits.files);
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Files opened by path that are open now (see [`Limits::files`]).
    pub fn open_files(&self) -> usize {
        self.files.open()
    }

    /// `EAGAIN` when one more process would exceed [`Limits::processes`].
    fn check_process_limit(&self) -> KResult<()> {
        if self.procs.len() >= self.limits.processes {
            tracing::debug!(limit = self.limits.processes, "process limit reached");
            return Err(Errno::EAGAIN);
        }
        Ok(())
    }

    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    pub fn process(&self, pid: Pid) -> Option<&crate::process::Process> {
        self.procs.get(pid)
    }

    /// Starts a process on behalf of the VM (parent pid 0). With a `Tty`
    /// stdio it runs on a new PTY; the returned bridge carries its master.
    pub fn create_process(
        &mut self,
        spec: InitSpec,
    ) -> KResult<(Pid, Option<crate::unix::bridge::BridgeId>)> {
        self.check_process_limit()?;
        let mut fds = FdTable::new();
        let mut tty = None;
        for (fd, how) in spec.stdio.iter().enumerate() {
            let file = match how {
                Stdio::Tty(size) => {
                    let (slave, _) = tty.get_or_insert_with(|| {
                        let master = self
                            .ptys
                            .lock()
                            .unwrap()
                            .open_master(&self.notifier, &self.tty_events);
                        master.0.set_winsize(*size);
                        master.0.set_locked(false);
                        let slave = master
                            .0
                            .open_slave()
                            .map(|s| OpenFile::new(s, status::READ | status::WRITE));
                        (slave, master)
                    });
                    slave.clone()?
                }
                other => self.stdio_file(fd, other)?,
            };
            fds.install(fd as i32, FdEntry::new(file, false))?;
        }
        self.install_root(&mut fds)?;
        self.vfs.resolve_dir("/", &spec.cwd)?;
        let pid = self
            .procs
            .create(0, spec.name, fds, spec.cwd, &self.notifier);
        let bridge = tty.map(|(_, master)| {
            master.0.attach(pid, pid);
            self.procs.get_mut(pid).unwrap().ctty = Some(master.0.clone());
            self.add_terminal_bridge(master)
        });
        Ok((pid, bridge))
    }

    fn install_root(&self, fds: &mut FdTable) -> KResult<()> {
        let flags = OpenFlags {
            read: true,
            directory: true,
            ..OpenFlags::default()
        };
        let root = self.vfs.open("/", "/", flags, 0)?;
        let mut e = FdEntry::new(OpenFile::new(root, status::READ), false);
        e.preopen = Some("/".into());
        fds.install(3, e)?;
        Ok(())
    }

    fn stdio_file(&mut self, fd: usize, how: &Stdio) -> KResult<Arc<OpenFile>> {
        let out = fd != 0;
        let access = if out { status::WRITE } else { status::READ };
        Ok(match how {
            Stdio::Open(f) => f.clone(),
            Stdio::Null => {
                let d = self.vfs.open(
                    "/",
                    "/dev/null",
                    OpenFlags {
                        read: !out,
                        write: out,
                        ..Default::default()
                    },
                    0,
                )?;
                OpenFile::new(d, access)
            }
            Stdio::Inherit if out => {
                let which = if fd == 1 {
                    HostStream::Stdout
                } else {
                    HostStream::Stderr
                };
                OpenFile::new(Arc::new(HostOutput(which)), status::WRITE)
            }
            Stdio::Inherit => {
                if self.stdin.reader.is_none() {
                    let (r, w) = pipe(&self.notifier);
                    self.stdin.reader = Some(r);
                    self.stdin.writer = Some(w);
                    self.actions.push(Action::StdinCredit);
                }
                self.stdin.reader.clone().unwrap()
            }
            Stdio::Tty(_) => unreachable!("create_process handles terminals"),
            Stdio::HostFile(path) => {
                let file = if out {
                    std::fs::File::create(path)
                } else {
                    std::fs::File::open(path)
                }
                .map_err(Errno::from)?;
                OpenFile::new(Arc::new(crate::host::HostFileStream::new(file)), access)
            }
        })
    }

    /// Hands host stdin bytes to the guests; `None` is end of file.
    pub fn host_stdin(&mut self, data: Option<Vec<u8>>) {
        match data {
            Some(d) => self.stdin.pending.extend(d),
            None => self.stdin.eof = true,
        }
        self.flush_stdin();
    }

    fn flush_stdin(&mut self) {
        let Some(w) = self.stdin.writer.clone() else {
            return;
        };
        while !self.stdin.pending.is_empty() {
            let chunk: Vec<u8> = self
                .stdin
                .pending
                .iter()
                .take(crate::pipe::PIPE_BUF)
                .copied()
                .collect();
            match w.desc.write(&chunk, false) {
                Ok(n) => drop(self.stdin.pending.drain(..n)),
                Err(_) => break,
            }
        }
        if self.stdin.pending.is_empty() {
            if self.stdin.eof {
                self.stdin.writer = None;
            } else {
                self.actions.push(Action::StdinCredit);
            }
        }
    }

    /// Queues whose wakeup lets buffered host stdin make progress.
    fn stdin_keys(&self) -> Vec<WaitKey> {
        match &self.stdin.writer {
            Some(w) if !self.stdin.pending.is_empty() => w.desc.wait_keys(),
            _ => Vec::new(),
        }
    }

    /// Called by the scheduler with every batch of notified keys.
    pub fn on_wakeup(&mut self, keys: &std::collections::HashSet<WaitKey>) {
        if self.stdin_keys().iter().any(|k| keys.contains(k)) {
            self.flush_stdin();
        }
        self.wake_bridges(keys);
    }

    // ---- dispatch --------------------------------------------------------

    /// Runs one attempt of `call` for `pid`.
    pub fn call(&mut self, pid: Pid, call: &mut Syscall) -> Outcome {
        let outcome = self.call_once(pid, call);
        self.drain_tty_events();
        outcome
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
                    if self.procs.get(sid).is_some_and(|p| Some(p.pgid) != pgrp) {
                        self.send_signal(sid, signal::SIGHUP);
                        self.send_signal(sid, signal::SIGCONT);
                    }
                }
            }
        }
    }

    fn signal_group(&mut self, pgrp: Pid, sig: i32) {
        let members: Vec<Pid> = self
            .procs
            .iter()
            .filter(|p| p.pgid == pgrp)
            .map(|p| p.pid)
            .collect();
        for pid in members {
            self.send_signal(pid, sig);
        }
    }

    fn call_once(&mut self, pid: Pid, call: &mut Syscall) -> Outcome {
        // A stopped process waits for SIGCONT before any call proceeds.
        if let Some(p) = self.procs.get(pid) {
            if p.stopped && p.killed.is_none() && !call.ends_process() {
                return Outcome::Block(vec![p.sig_events.key()]);
            }
        }
        match self.procs.get(pid) {
            None => return Outcome::Ready(Err(Errno::ESRCH)),
            // A killed process may still report its exit, and nothing else.
            Some(p)
                if (p.killed.is_some() || p.state != ProcState::Live) && !call.ends_process() =>
            {
                return Outcome::Ready(Err(Errno::EINTR))
            }
            _ => {}
        }
        use Syscall as S;
        match call {
            S::Read {
                fd,
                len,
                timer,
                parked,
            } => self.read(pid, *fd, *len, timer, parked),
            S::Pread { fd, len, offset } => {
                let (len, offset) = (*len, *offset);
                ready(
                    self.readable_file(pid, *fd)
                        .and_then(|f| f.desc.pread(len, offset)),
                    Ret::Bytes,
                )
            }
            S::Write { fd, data, done } => self.write(pid, *fd, data, done),
            S::Pwrite { fd, data, offset } => {
                let offset = *offset;
                let r = self
                    .writable_file(pid, *fd)
                    .and_then(|f| f.desc.pwrite(data, offset));
                self.ready_write(pid, r)
            }
            S::Seek { fd, offset, whence } => {
                let (o, w) = (*offset, *whence);
                ready(
                    self.file(pid, *fd).and_then(|f| f.desc.seek(o, w)),
                    Ret::Offset,
                )
            }
            S::Close { fd } => ready(self.fds_mut(pid).remove(*fd), |_| Ret::Unit),
            S::Sync { fd } => ready(self.file(pid, *fd).and_then(|f| f.desc.sync()), |_| {
                Ret::Unit
            }),
            S::FdStat { fd } => ready(self.file(pid, *fd), |f| Ret::FdStat {
                file_type: f.desc.file_type(),
                status: f.flags(),
                tty: f.desc.is_tty().is_some(),
            }),
            S::FdSetStatus { fd, status } => {
                let s = *status;
                ready(self.file(pid, *fd), |f| {
                    f.set_status(s);
                    Ret::Unit
                })
            }
            S::FileStat { fd } => ready(self.file(pid, *fd).and_then(|f| f.desc.stat()), Ret::Stat),
            S::SetSize { fd, size } => {
                let size = *size;
                ready(
                    self.writable_file(pid, *fd)
                        .and_then(|f| f.desc.set_size(size)),
                    |_| Ret::Unit,
                )
            }
            S::SetTimes { fd, atime, mtime } => {
                let (a, m) = (*atime, *mtime);
                ready(
                    self.file(pid, *fd).and_then(|f| f.desc.set_times(a, m)),
                    |_| Ret::Unit,
                )
            }
            S::Allocate { fd, offset, len } => {
                let end = offset.saturating_add(*len);
                let r = self.writable_file(pid, *fd).and_then(|f| {
                    if f.desc.file_type() != FileType::RegularFile {
                        return Err(Errno::ENODEV);
                    }
                    if f.desc.stat()?.size < end {
                        f.desc.set_size(end)?;
                    }
                    Ok(())
                });
                ready(r, |_| Ret::Unit)
            }
            S::Advise { fd } => ready(self.file(pid, *fd), |_| Ret::Unit),
            S::Prestat { fd } => {
                let r = self
                    .fds(pid)
                    .get(*fd)
                    .and_then(|e| e.preopen.clone().ok_or(Errno::EBADF));
                ready(r, Ret::Prestat)
            }
            S::Readdir { fd, cookie } => {
                let skip = usize::try_from(*cookie).unwrap_or(usize::MAX);
                let r = self.file(pid, *fd).and_then(|f| f.desc.readdir());
                ready(r, |e| Ret::Entries(e.into_iter().skip(skip).collect()))
            }
            S::Renumber { from, to } => ready(self.renumber(pid, *from, *to), |_| Ret::Unit),
            S::PathOpen {
                dirfd,
                path,
                flags,
                status,
                cloexec,
                noctty,
            } => ready(
                self.path_open(pid, *dirfd, path, *flags, *status, *cloexec, *noctty),
                Ret::Fd,
            ),
            S::PathMkdir { dirfd, path } => {
                let r = self
                    .base(pid, *dirfd)
                    .and_then(|b| self.vfs.mkdir(&b, path, 0o777));
                ready(r, |_| Ret::Unit)
            }
            S::PathStat {
                dirfd,
                path,
                follow,
            } => {
                let r = self
                    .base(pid, *dirfd)
                    .and_then(|b| self.vfs.stat(&b, path, *follow));
                ready(r, Ret::Stat)
            }
            S::PathSetTimes {
                dirfd,
                path,
                follow,
                atime,
                mtime,
            } => {
                let r = self
                    .base(pid, *dirfd)
                    .and_then(|b| self.vfs.set_times(&b, path, *follow, *atime, *mtime));
                ready(r, |_| Ret::Unit)
            }
            S::PathLink {
                dirfd,
                path,
                follow,
                new_dirfd,
                new_path,
            } => {
                let r = self.base(pid, *dirfd).and_then(|b| {
                    let nb = self.base(pid, *new_dirfd)?;
                    self.vfs.link(&b, path, *follow, &nb, new_path)
                });
                ready(r, |_| Ret::Unit)
            }
            S::PathReadlink { dirfd, path } => {
                let r = self
                    .base(pid, *dirfd)
                    .and_then(|b| self.vfs.readlink(&b, path));
                ready(r, Ret::Text)
            }
            S::PathRmdir { dirfd, path } => {
                let r = self
                    .base(pid, *dirfd)
                    .and_then(|b| self.vfs.rmdir(&b, path));
                ready(r, |_| Ret::Unit)
            }
            S::PathRename {
                dirfd,
                path,
                new_dirfd,
                new_path,
            } => {
                let r = self.base(pid, *dirfd).and_then(|b| {
                    let nb = self.base(pid, *new_dirfd)?;
                    self.vfs.rename(&b, path, &nb, new_path)
                });
                ready(r, |_| Ret::Unit)
            }
            S::PathSymlink {
                target,
                dirfd,
                path,
            } => {
                let r = self
                    .base(pid, *dirfd)
                    .and_then(|b| self.vfs.symlink(target, &b, path));
                ready(r, |_| Ret::Unit)
            }
            S::PathUnlink { dirfd, path } => {
                let r = self
                    .base(pid, *dirfd)
                    .and_then(|b| self.vfs.unlink(&b, path));
                ready(r, |_| Ret::Unit)
            }
            S::Poll { subs } => self.poll(pid, subs),
            S::ResolveProgram { path, cwd, chdirs } => {
                let own = self.procs.get(pid).unwrap().cwd.clone();
                let r = chdirs
                    .iter()
                    .try_fold(cwd.clone().unwrap_or(own), |at, dir| {
                        self.vfs.resolve_dir(&at, dir)
                    })
                    .and_then(|base| self.vfs.program(&base, path));
                ready(r, Ret::Program)
            }
            S::Spawn(req) => ready(self.spawn(pid, req), Ret::Pid),
            S::Wait {
                pid: which,
                options,
            } => self.wait(pid, *which, *options),
            S::Kill { pid: target, sig } => ready(self.kill(pid, *target, *sig), |_| Ret::Unit),
            S::GetPpid => Outcome::Ready(Ok(Ret::Pid(self.procs.get(pid).unwrap().ppid))),
            S::GetPgid { pid: which } => {
                let target = if *which == 0 { pid } else { *which };
                ready(
                    self.procs.get(target).map(|p| p.pgid).ok_or(Errno::ESRCH),
                    Ret::Pid,
                )
            }
            S::SetPgid { pid: which, pgid } => {
                ready(self.setpgid(pid, *which, *pgid), |_| Ret::Unit)
            }
            S::GetSid { pid: which } => {
                let target = if *which == 0 { pid } else { *which };
                ready(
                    self.procs.get(target).map(|p| p.sid).ok_or(Errno::ESRCH),
                    Ret::Pid,
                )
            }
            S::SetSid => ready(self.setsid(pid), Ret::Pid),
            S::InitialCwd => {
                Outcome::Ready(Ok(Ret::Text(self.procs.get(pid).unwrap().cwd.clone())))
            }
            S::Pipe2 { flags } => ready(self.pipe2(pid, *flags), |(r, w)| Ret::Fds(r, w)),
            S::Dup { fd } => {
                let r = self
                    .fds(pid)
                    .get(*fd)
                    .cloned()
                    .and_then(|e| self.fds_mut(pid).alloc(FdEntry::new(e.file, false), 0));
                ready(r, Ret::Fd)
            }
            S::Dup3 { old, new, flags } => ready(self.dup3(pid, *old, *new, *flags), Ret::Fd),
            S::Fcntl { fd, cmd, arg } => ready(self.fcntl(pid, *fd, *cmd, *arg), Ret::Int),
            S::Exit { status } => {
                self.exit(pid, *status);
                Outcome::Ready(Ok(Ret::Unit))
            }
            S::SpawnFailed => {
                self.unspawn(pid);
                Outcome::Ready(Ok(Ret::Unit))
            }
            S::PollFds { fds, deadline } => self.poll_fds(pid, fds, *deadline),
            S::SigAction { sig, action } => {
                ready(self.sigaction(pid, *sig, *action), |_| Ret::Unit)
            }
            S::SigProcMask { how, set } => ready(self.sigprocmask(pid, *how, *set), Ret::SigSet),
            S::SigPending => {
                Outcome::Ready(Ok(Ret::SigSet(self.procs.get(pid).unwrap().sig.pending)))
            }
            S::SigSuspend { mask } => {
                let p = self.procs.get_mut(pid).unwrap();
                if p.sig.suspend_saved.is_none() {
                    p.sig.suspend_saved = Some(p.sig.blocked);
                    if let Some(mask) = mask {
                        p.sig.blocked = *mask & !signal::UNBLOCKABLE;
                    }
                }
                if p.sig.deliverable() != 0 {
                    Outcome::Ready(Err(Errno::EINTR))
                } else {
                    Outcome::Block(vec![p.sig_events.key()])
                }
            }
            S::SigNext => Outcome::Ready(Ok(Ret::SigDeliver(self.sig_next(pid)))),
            // Reached only once the process is not stopped.
            S::StopPoint => Outcome::Ready(Ok(Ret::Unit)),
            S::ITimer { which, new } => {
                if *which != ITIMER_REAL {
                    return Outcome::Ready(Err(Errno::EINVAL));
                }
                let now = Instant::now();
                let old = match new {
                    Some(v) => self.itimers.set(pid, now, *v),
                    None => self.itimers.get(pid, now),
                };
                Outcome::Ready(Ok(Ret::ITimer(old)))
            }
            S::SigReturn { mask } => {
                self.procs.get_mut(pid).unwrap().sig.blocked = *mask & !signal::UNBLOCKABLE;
                self.after_unblock(pid);
                Outcome::Ready(Ok(Ret::Unit))
            }
            S::Ioctl {
                fd,
                request,
                arg,
                data,
            } => {
                // Changing the terminal from the background (tty_check_change).
                const CHANGES: [u32; 6] = [0x5402, 0x5403, 0x5404, 0x540A, 0x540B, 0x5410];
                if CHANGES.contains(request) {
                    let slave = self.file(pid, *fd).ok().and_then(|f| {
                        f.desc
                            .as_any()
                            .downcast_ref::<PtySlave>()
                            .map(|s| s.0.clone())
                    });
                    if let Some(pty) = slave {
                        if let Some(o) = self.tty_background(pid, &pty, signal::SIGTTOU) {
                            return o;
                        }
                    }
                }
                ready(
                    self.ioctl(pid, *fd, *request, *arg, data),
                    |(value, data)| Ret::Ioctl { value, data },
                )
            }
            _ => self.net_call(pid, call),
        }
    }

    // ---- helpers ---------------------------------------------------------

    pub(crate) fn fds(&self, pid: Pid) -> &FdTable {
        &self.procs.get(pid).expect("caller checked pid").fds
    }

    pub(crate) fn fds_mut(&mut self, pid: Pid) -> &mut FdTable {
        &mut self.procs.get_mut(pid).expect("caller checked pid").fds
    }

    pub(crate) fn file(&self, pid: Pid, fd: i32) -> KResult<Arc<OpenFile>> {
        self.fds(pid).file(fd)
    }

    fn readable_file(&self, pid: Pid, fd: i32) -> KResult<Arc<OpenFile>> {
        let f = self.file(pid, fd)?;
        if !f.readable() {
            return Err(Errno::EBADF);
        }
        Ok(f)
    }

    fn writable_file(&self, pid: Pid, fd: i32) -> KResult<Arc<OpenFile>> {
        let f = self.file(pid, fd)?;
        if !f.writable() {
            return Err(Errno::EBADF);
        }
        Ok(f)
    }

    /// The directory that relative paths of `dirfd` start from.
    fn base(&self, pid: Pid, dirfd: i32) -> KResult<String> {
        self.file(pid, dirfd)?.desc.dir_path().ok_or(Errno::ENOTDIR)
    }

    fn read(
        &mut self,
        pid: Pid,
        fd: i32,
        len: usize,
        timer: &mut Option<Instant>,
        parked: &mut bool,
    ) -> Outcome {
        let f = match self.readable_file(pid, fd) {
            Ok(f) => f,
            Err(e) => return Outcome::Ready(Err(e)),
        };
        let slave = f.desc.as_any().downcast_ref::<PtySlave>();
        // A reader blocked when the terminal hangs up gets EIO (Linux's
        // TTY_OTHER_CLOSED); later reads see end of file.
        if *parked && slave.is_some_and(|s| s.0.hung_up()) {
            return Outcome::Ready(Err(Errno::EIO));
        }
        if let Some(pty) = slave.map(|s| s.0.clone()) {
            if let Some(o) = self.tty_background(pid, &pty, signal::SIGTTIN) {
                return o;
            }
        }
        match f.desc.read(len) {
            Err(Errno::EAGAIN) if !f.nonblocking() => {
                if let Some(slave) = slave {
                    if let Some(r) = tty_read_timer(slave, len, timer) {
                        return Outcome::Ready(r.map(Ret::Bytes));
                    }
                }
                *parked = true;
                Outcome::Block(f.desc.wait_keys())
            }
            r => ready(r, Ret::Bytes),
        }
    }

    fn write(&mut self, pid: Pid, fd: i32, data: &[u8], done: &mut usize) -> Outcome {
        let f = match self.writable_file(pid, fd) {
            Ok(f) => f,
            Err(e) => return Outcome::Ready(Err(e)),
        };
        if let Some(slave) = f.desc.as_any().downcast_ref::<PtySlave>() {
            let pty = slave.0.clone();
            if pty.termios().lflag(crate::pty::termios::TOSTOP) {
                if let Some(o) = self.tty_background(pid, &pty, signal::SIGTTOU) {
                    return o;
                }
            }
        }
        loop {
            if *done == data.len() {
                return Outcome::Ready(Ok(Ret::Size(*done)));
            }
            match f.desc.write(&data[*done..], f.append()) {
                Ok(n) => *done += n,
                Err(Errno::EAGAIN) if *done > 0 && f.nonblocking() => {
                    return Outcome::Ready(Ok(Ret::Size(*done)))
                }
                Err(Errno::EAGAIN) if !f.nonblocking() => {
                    return Outcome::Block(f.desc.wait_keys())
                }
                Err(e) if *done > 0 && e != Errno::EPIPE => {
                    return Outcome::Ready(Ok(Ret::Size(*done)))
                }
                Err(e) => return self.ready_write(pid, Err(e)),
            }
        }
    }

    /// A write that failed with EPIPE also raises SIGPIPE, as on Linux.
    pub(crate) fn ready_write(&mut self, pid: Pid, r: KResult<usize>) -> Outcome {
        if r == Err(Errno::EPIPE) {
            self.send_signal(pid, signal::SIGPIPE);
        }
        ready(r, Ret::Size)
    }

    fn renumber(&mut self, pid: Pid, from: i32, to: i32) -> KResult<()> {
        let fds = self.fds_mut(pid);
        fds.get(to)?;
        let entry = fds.remove(from)?;
        fds.install(to, entry)?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn path_open(
        &mut self,
        pid: Pid,
        dirfd: i32,
        path: &str,
        flags: OpenFlags,
        status_bits: u32,
        cloexec: bool,
        noctty: bool,
    ) -> KResult<i32> {
        let base = self.base(pid, dirfd)?;
        // Counted before anything is opened or created, as Linux checks
        // `file-max` before the path walk.
        let charge = self.files.charge()?;
        let desc = self.open_desc(pid, &base, path, flags, 0o666, noctty)?;
        let mut bits = status_bits & !(status::READ | status::WRITE);
        if flags.read {
            bits |= status::READ;
        }
        if flags.write {
            bits |= status::WRITE;
        }
        let file = OpenFile::charged(desc, bits, charge);
        self.fds_mut(pid).alloc(FdEntry::new(file, cloexec), 0)
    }

    /// Opens a path for `pid`: the VFS, except `/dev/pts/N`, which names a
    /// pty slave. A session leader without a terminal that opens a slave
    /// acquires it, as on Linux.
    fn open_desc(
        &mut self,
        pid: Pid,
        base: &str,
        path: &str,
        flags: OpenFlags,
        mode: u32,
        noctty: bool,
    ) -> KResult<Arc<dyn crate::file::FileDescription>> {
        let Some(index) = pts_index(base, path) else {
            return self.vfs.open(base, path, flags, mode);
        };
        let pty = self.ptys.lock().unwrap().get(index).ok_or(Errno::ENOENT)?;
        let slave = pty.open_slave()?;
        let p = self.procs.get_mut(pid).unwrap();
        if !noctty && p.sid == pid && p.ctty.is_none() && pty.session().is_none() {
            pty.attach(pid, p.pgid);
            p.ctty = Some(pty);
        }
        Ok(slave)
    }

    fn poll(&mut self, pid: Pid, subs: &[PollSub]) -> Outcome {
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
            use crate::file::poll::*;
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
    fn poll_fds(&mut self, pid: Pid, fds: &[(i32, u16)], deadline: Option<Instant>) -> Outcome {
        use crate::file::poll::*;
        const POLLRDNORM: u16 = 0x40;
        const POLLWRNORM: u16 = 0x100;
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

    /// `ioctl(2)`: the fd-generic requests, then the terminal ones.
    fn ioctl(
        &mut self,
        pid: Pid,
        fd: i32,
        request: u32,
        arg: i32,
        data: &[u8],
    ) -> KResult<(i32, Vec<u8>)> {
        use crate::pty::termios::{Termios, Winsize};
        const FIONREAD: u32 = 0x541B;
        const FIONBIO: u32 = 0x5421;
        const TCGETS: u32 = 0x5401;
        const TCSETS: u32 = 0x5402;
        const TCSETSW: u32 = 0x5403;
        const TCSETSF: u32 = 0x5404;
        const TCSBRK: u32 = 0x5409;
        const TCXONC: u32 = 0x540A;
        const TCFLSH: u32 = 0x540B;
        const TIOCSCTTY: u32 = 0x540E;
        const TIOCGPGRP: u32 = 0x540F;
        const TIOCSPGRP: u32 = 0x5410;
        const TIOCOUTQ: u32 = 0x5411;
        const TIOCGWINSZ: u32 = 0x5413;
        const TIOCSWINSZ: u32 = 0x5414;
        const TIOCNOTTY: u32 = 0x5422;
        const TIOCGSID: u32 = 0x5429;
        const TIOCGPTN: u32 = 0x8004_5430;
        const TIOCSPTLCK: u32 = 0x4004_5431;
        const TIOCGPTLCK: u32 = 0x8004_5439;
        let int_in = || -> KResult<i32> {
            let b: [u8; 4] = data
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Errno::EFAULT)?;
            Ok(i32::from_le_bytes(b))
        };
        let int_out = |v: i32| Ok((0, v.to_le_bytes().to_vec()));
        let f = self.file(pid, fd)?;
        match request {
            FIONREAD => {
                return int_out(f.desc.bytes_readable()?.min(i32::MAX as usize) as i32);
            }
            FIONBIO => {
                let st = f.flags();
                f.set_status(if int_in()? != 0 {
                    st | status::NONBLOCK
                } else {
                    st & !status::NONBLOCK
                });
                return Ok((0, Vec::new()));
            }
            _ => {}
        }
        let pty = f.desc.is_tty().ok_or(Errno::ENOTTY)?;
        let is_master = f.desc.as_any().is::<crate::pty::device::PtyMaster>();
        // Every ioctl on a hung-up terminal fails (Linux's hung_up_tty_ioctl).
        if !is_master && pty.hung_up() {
            return Err(Errno::EIO);
        }
        let me = self.procs.get(pid).unwrap();
        let is_ctty = me.ctty.as_ref().is_some_and(|c| Arc::ptr_eq(c, &pty));
        let (my_sid, my_pgid) = (me.sid, me.pgid);
        match request {
            TCGETS => Ok((0, pty.termios().to_bytes().to_vec())),
            TCSETS | TCSETSW | TCSETSF => {
                let raw: &[u8; Termios::SIZE] = data
                    .get(..Termios::SIZE)
                    .and_then(|b| b.try_into().ok())
                    .ok_or(Errno::EFAULT)?;
                // A pty has no transmitter to drain: TCSETSW is immediate.
                pty.set_termios(Termios::from_bytes(raw), request == TCSETSF);
                Ok((0, Vec::new()))
            }
            TIOCGWINSZ => Ok((0, pty.winsize().to_bytes().to_vec())),
            TIOCSWINSZ => {
                let raw: &[u8; Winsize::SIZE] = data
                    .get(..Winsize::SIZE)
                    .and_then(|b| b.try_into().ok())
                    .ok_or(Errno::EFAULT)?;
                pty.set_winsize(Winsize::from_bytes(raw));
                Ok((0, Vec::new()))
            }
            TIOCGPGRP => {
                if !is_master && !is_ctty {
                    return Err(Errno::ENOTTY);
                }
                int_out(pty.foreground().unwrap_or(0))
            }
            TIOCSPGRP => {
                if !is_ctty {
                    return Err(Errno::ENOTTY);
                }
                let pgrp = int_in()?;
                if pgrp < 0 {
                    return Err(Errno::EINVAL);
                }
                if !self.procs.iter().any(|p| p.pgid == pgrp) {
                    return Err(Errno::ESRCH);
                }
                if !self.procs.iter().any(|p| p.pgid == pgrp && p.sid == my_sid) {
                    return Err(Errno::EPERM);
                }
                pty.set_foreground(pgrp);
                Ok((0, Vec::new()))
            }
            TIOCSCTTY => {
                if is_ctty {
                    return Ok((0, Vec::new()));
                }
                let me = self.procs.get(pid).unwrap();
                if me.sid != pid || me.ctty.is_some() || pty.session().is_some() {
                    return Err(Errno::EPERM);
                }
                pty.attach(pid, my_pgid);
                self.procs.get_mut(pid).unwrap().ctty = Some(pty);
                Ok((0, Vec::new()))
            }
            TIOCNOTTY => {
                if !is_ctty {
                    return Err(Errno::ENOTTY);
                }
                if my_sid == pid {
                    if let Some(g) = pty.foreground() {
                        self.signal_group(g, signal::SIGHUP);
                        self.signal_group(g, signal::SIGCONT);
                    }
                    self.release_ctty(my_sid, &pty);
                } else {
                    self.procs.get_mut(pid).unwrap().ctty = None;
                }
                Ok((0, Vec::new()))
            }
            TIOCGSID => match pty.session() {
                Some(sid) if is_master || is_ctty => int_out(sid),
                _ => Err(Errno::ENOTTY),
            },
            // The master's input is the slave's output.
            TCFLSH => {
                let queue = match (is_master, arg) {
                    (true, 0) => 1,
                    (true, 1) => 0,
                    (_, q) => q,
                };
                pty.flush(queue).map(|_| (0, Vec::new()))
            }
            TCXONC => pty.flow(arg).map(|_| (0, Vec::new())),
            // Nothing to drain on a pty, and a break is a no-op.
            TCSBRK => Ok((0, Vec::new())),
            // Linux's pty has no driver-side buffer: always 0.
            TIOCOUTQ => int_out(0),
            // Linux answers this on masters; sidecar also on slaves, so that
            // ttyname() can name /dev/pts/N without a stat of it.
            TIOCGPTN => int_out(pty.index() as i32),
            TIOCGPTLCK if is_master => int_out(pty.locked() as i32),
            TIOCSPTLCK if is_master => {
                pty.set_locked(int_in()? != 0);
                Ok((0, Vec::new()))
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn pipe2(&mut self, pid: Pid, flags: u32) -> KResult<(i32, i32)> {
        if flags & !(oflag::O_CLOEXEC | oflag::O_NONBLOCK) != 0 {
            return Err(Errno::EINVAL);
        }
        let (r, w) = pipe(&self.notifier);
        if flags & oflag::O_NONBLOCK != 0 {
            r.set_status(status::NONBLOCK);
            w.set_status(status::NONBLOCK);
        }
        let cloexec = flags & oflag::O_CLOEXEC != 0;
        let fds = self.fds_mut(pid);
        let rfd = fds.alloc(FdEntry::new(r, cloexec), 0)?;
        match fds.alloc(FdEntry::new(w, cloexec), 0) {
            Ok(wfd) => Ok((rfd, wfd)),
            Err(e) => {
                let _ = fds.remove(rfd);
                Err(e)
            }
        }
    }

    fn dup3(&mut self, pid: Pid, old: i32, new: i32, flags: u32) -> KResult<i32> {
        if flags & !oflag::O_CLOEXEC != 0 || old == new {
            return Err(Errno::EINVAL);
        }
        let fds = self.fds_mut(pid);
        let file = fds.file(old)?;
        let prev = fds.install(new, FdEntry::new(file, flags & oflag::O_CLOEXEC != 0))?;
        drop(prev);
        Ok(new)
    }

    fn fcntl(&mut self, pid: Pid, fd: i32, cmd: i32, arg: i32) -> KResult<i32> {
        const F_DUPFD: i32 = 0;
        const F_GETFD: i32 = 1;
        const F_SETFD: i32 = 2;
        const F_GETFL: i32 = 3;
        const F_SETFL: i32 = 4;
        const F_DUPFD_CLOEXEC: i32 = 1030;
        let fds = self.fds_mut(pid);
        let entry = fds.get(fd)?.clone();
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                fds.alloc(FdEntry::new(entry.file, cmd == F_DUPFD_CLOEXEC), arg)
            }
            F_GETFD => Ok(entry.cloexec as i32),
            F_SETFD => {
                fds.get_mut(fd)?.cloexec = arg & 1 != 0;
                Ok(0)
            }
            F_GETFL => Ok(status_to_oflag(entry.file.flags()) as i32),
            F_SETFL => {
                entry.file.set_status(oflag_to_status(arg as u32));
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    // ---- processes -------------------------------------------------------

    /// `posix_spawn`: the child exists first with its attributes applied
    /// (new session or group, signal state), then the file actions run in
    /// its context, then close-on-exec fds close, as with fork + exec.
    fn spawn(&mut self, parent: Pid, req: &SpawnRequest) -> KResult<Pid> {
        self.check_process_limit()?;
        let p = self.procs.get(parent).unwrap();
        let cwd = match &req.attr.cwd {
            Some(c) => self.vfs.resolve_dir(&p.cwd, c)?,
            None => p.cwd.clone(),
        };
        let fds = p.fds.clone();
        let child = self
            .procs
            .create(parent, req.name.clone(), fds, cwd, &self.notifier);
        let c = self.procs.get_mut(child).unwrap();
        for sig in 1..=signal::NSIG {
            if req.attr.sigdefault & signal::bit(sig) != 0 {
                *c.sig.action_mut(sig) = signal::SigAction::default();
            }
        }
        if let Some(mask) = req.attr.sigmask {
            c.sig.blocked = mask & !signal::UNBLOCKABLE;
        }
        if req.attr.setsid {
            c.sid = child;
            c.pgid = child;
            c.ctty = None;
        } else if let Some(g) = req.attr.pgroup {
            c.pgid = if g == 0 { child } else { g };
        }
        match self.spawn_actions(child, &req.actions) {
            Ok(()) => {
                self.procs.get_mut(child).unwrap().fds.close_on_exec();
                Ok(child)
            }
            Err(e) => {
                // Never ran: no zombie, no SIGCHLD.
                self.procs.remove(child);
                Err(e)
            }
        }
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
                    let (flags, st) = open_flags(*oflag);
                    let cwd = self.procs.get(child).unwrap().cwd.clone();
                    let noctty = oflag & oflag::O_NOCTTY != 0;
                    let charge = self.files.charge()?;
                    let desc = self.open_desc(child, &cwd, path, flags, *mode, noctty)?;
                    let file = OpenFile::charged(desc, st, charge);
                    self.fds_mut(child)
                        .install(*newfd, FdEntry::new(file, false))?;
                }
                SpawnAction::Chdir(path) => {
                    let c = self.procs.get(child).unwrap();
                    let cwd = self.vfs.resolve_dir(&c.cwd, path)?;
                    self.procs.get_mut(child).unwrap().cwd = cwd;
                }
            }
        }
        Ok(())
    }

    fn wait(&mut self, pid: Pid, which: Pid, options: u32) -> Outcome {
        // -INT_MIN names no group (Linux's kernel_wait4).
        if which == Pid::MIN {
            return Outcome::Ready(Err(Errno::ESRCH));
        }
        let me = self.procs.get(pid).unwrap();
        let my_pgid = me.pgid;
        let matches = |c: &crate::process::Process| match which {
            -1 => true,
            0 => c.pgid == my_pgid,
            p if p > 0 => c.pid == p,
            p => c.pgid == -p,
        };
        let mut any = false;
        let mut zombie = None;
        for c in self.procs.children(pid) {
            if !matches(c) {
                continue;
            }
            any = true;
            if let ProcState::Zombie(st) = c.state {
                zombie = Some((c.pid, st));
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
        const WUNTRACED: u32 = 2;
        const WCONTINUED: u32 = 8;
        let report = self
            .procs
            .children(pid)
            .filter(|c| matches(c))
            .find_map(|c| match c.wait_report {
                Some(st) if st == WaitStatus::CONTINUED && options & WCONTINUED != 0 => {
                    Some((c.pid, st))
                }
                Some(st) if st != WaitStatus::CONTINUED && options & WUNTRACED != 0 => {
                    Some((c.pid, st))
                }
                _ => None,
            });
        if let Some((child, status)) = report {
            self.procs.get_mut(child).unwrap().wait_report = None;
            return Outcome::Ready(Ok(Ret::Waited { pid: child, status }));
        }
        if options & WNOHANG != 0 {
            return Outcome::Ready(Ok(Ret::Waited {
                pid: 0,
                status: WaitStatus(0),
            }));
        }
        Outcome::Block(vec![me.child_events.key()])
    }

    fn kill(&mut self, sender: Pid, target: Pid, sig: i32) -> KResult<()> {
        if !(0..=signal::NSIG).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        // -INT_MIN names no group (Linux's kill_something_info).
        if target == Pid::MIN {
            return Err(Errno::ESRCH);
        }
        let sender_pgid = self.procs.get(sender).map(|p| p.pgid).unwrap_or(0);
        let targets: Vec<Pid> = self
            .procs
            .iter()
            .filter(|p| match target {
                t if t > 0 => p.pid == t,
                0 => p.pgid == sender_pgid,
                -1 => p.pid != 1 && p.pid != sender,
                t => p.pgid == -t,
            })
            .map(|p| p.pid)
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

    /// Posts `sig` to `pid`, as Linux's `send_signal`: ignored signals are
    /// discarded, fatal default actions kill at once unless blocked, caught
    /// ones become pending and interrupt a blocked call.
    pub fn send_signal(&mut self, pid: Pid, sig: i32) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        if p.state != ProcState::Live || p.killed.is_some() {
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
                p.sig.pending &= !signal::bit(s);
            }
            if p.stopped {
                self.resume(pid);
            }
        } else if STOPS.contains(&sig) {
            p.sig.pending &= !signal::bit(signal::SIGCONT);
        }
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        let action = p.sig.action(sig);
        let unblockable = sig == signal::SIGKILL || sig == signal::SIGSTOP;
        let blocked = p.sig.blocked & signal::bit(sig) != 0 && !unblockable;
        let disposition = if unblockable {
            signal::Disposition::Default
        } else {
            action.disposition
        };
        match disposition {
            signal::Disposition::Ignore => {}
            signal::Disposition::Default => match signal::default_action(sig) {
                DefaultAction::Terminate | DefaultAction::Stop if blocked => {
                    p.sig.pending |= signal::bit(sig)
                }
                DefaultAction::Terminate => {
                    p.killed = Some(sig);
                    self.actions.push(Action::Terminate { pid, sig });
                }
                DefaultAction::Stop => self.stop(pid, sig),
                DefaultAction::Ignore | DefaultAction::Continue => {}
            },
            signal::Disposition::Catch => {
                p.sig.pending |= signal::bit(sig);
                if !blocked {
                    p.sig_events.notify();
                    self.actions.push(Action::Interrupt { pid });
                }
            }
        }
    }

    /// Linux's job-control check: a process outside the foreground group
    /// using its controlling terminal. `None` lets the call go on; otherwise
    /// the call fails (EIO when SIGTTIN is ignored, EINTR after a caught
    /// signal) or waits while the signal's default action has stopped it.
    fn tty_background(
        &mut self,
        pid: Pid,
        pty: &Arc<crate::pty::device::Pty>,
        sig: i32,
    ) -> Option<Outcome> {
        let p = self.procs.get(pid)?;
        if !p.ctty.as_ref().is_some_and(|c| Arc::ptr_eq(c, pty)) {
            return None;
        }
        let fg = pty.foreground()?;
        if p.pgid == fg {
            return None;
        }
        let ignored = p.sig.action(sig).disposition == signal::Disposition::Ignore
            || p.sig.blocked & signal::bit(sig) != 0;
        if ignored {
            return (sig == signal::SIGTTIN).then_some(Outcome::Ready(Err(Errno::EIO)));
        }
        let pgid = p.pgid;
        self.signal_group(pgid, sig);
        let p = self.procs.get(pid)?;
        if p.stopped {
            return Some(Outcome::Block(vec![p.sig_events.key()]));
        }
        Some(Outcome::Ready(Err(Errno::EINTR)))
    }

    /// Session `sid` loses its controlling terminal.
    fn release_ctty(&mut self, sid: Pid, tty: &crate::pty::device::Pty) {
        tty.detach();
        let members: Vec<Pid> = self
            .procs
            .iter()
            .filter(|p| p.sid == sid)
            .map(|p| p.pid)
            .collect();
        for m in members {
            self.procs.get_mut(m).unwrap().ctty = None;
        }
    }

    /// Stops `pid`: its calls wait, its parent hears of it.
    fn stop(&mut self, pid: Pid, sig: i32) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        if p.stopped {
            return;
        }
        p.stopped = true;
        p.wait_report = Some(WaitStatus::stopped(sig));
        let ppid = p.ppid;
        self.actions.push(Action::Stop { pid });
        self.tell_parent(ppid);
    }

    fn resume(&mut self, pid: Pid) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        p.stopped = false;
        p.wait_report = Some(WaitStatus::CONTINUED);
        p.sig_events.notify();
        let ppid = p.ppid;
        self.tell_parent(ppid);
    }

    /// A child stopped or continued: wake waitpid, and SIGCHLD unless the
    /// parent asked for SA_NOCLDSTOP.
    fn tell_parent(&mut self, ppid: Pid) {
        let Some(parent) = self.procs.get(ppid) else {
            return;
        };
        parent.child_events.notify();
        if parent.sig.action(signal::SIGCHLD).flags & signal::SA_NOCLDSTOP == 0 {
            self.send_signal(ppid, signal::SIGCHLD);
        }
    }

    /// Whether `pid` has a caught signal to handle now.
    pub fn signal_due(&self, pid: Pid) -> bool {
        self.procs.get(pid).is_some_and(|p| {
            let due = p.sig.deliverable();
            (1..=signal::NSIG).any(|s| {
                due & signal::bit(s) != 0
                    && p.sig.action(s).disposition == signal::Disposition::Catch
            })
        })
    }

    /// How a parked call of `pid` ends when a signal interrupts it: `None`
    /// to restart it after the handler (SA_RESTART on a restartable call),
    /// else its result (EINTR, or the progress a write already made).
    pub fn interrupted(&self, pid: Pid, call: &Syscall) -> Option<KResult<Ret>> {
        let p = self.procs.get(pid)?;
        let due = p.sig.deliverable();
        let restart = (1..=signal::NSIG)
            .filter(|s| due & signal::bit(*s) != 0)
            .all(|s| p.sig.action(s).flags & signal::SA_RESTART != 0);
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

    fn sigaction(&mut self, pid: Pid, sig: i32, action: signal::SigAction) -> KResult<()> {
        if !(1..=signal::NSIG).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        if signal::UNBLOCKABLE & signal::bit(sig) != 0
            && action.disposition != signal::Disposition::Default
        {
            return Err(Errno::EINVAL);
        }
        let p = self.procs.get_mut(pid).unwrap();
        *p.sig.action_mut(sig) = action;
        // Setting a pending signal to ignored discards it (POSIX).
        let ignored = action.disposition == signal::Disposition::Ignore
            || (action.disposition == signal::Disposition::Default
                && signal::default_action(sig) == DefaultAction::Ignore);
        if ignored {
            p.sig.pending &= !signal::bit(sig);
        }
        Ok(())
    }

    fn sigprocmask(&mut self, pid: Pid, how: i32, set: u64) -> KResult<u64> {
        let p = self.procs.get_mut(pid).unwrap();
        let old = p.sig.blocked;
        p.sig.blocked = match how {
            0 => old | set,
            1 => old & !set,
            2 => set,
            _ => return Err(Errno::EINVAL),
        } & !signal::UNBLOCKABLE;
        self.after_unblock(pid);
        Ok(old)
    }

    /// Unblocking may make pending signals due: fatal defaults kill now,
    /// caught ones run at the end of this call.
    fn after_unblock(&mut self, pid: Pid) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        let due = p.sig.deliverable();
        for sig in 1..=signal::NSIG {
            if due & signal::bit(sig) != 0
                && p.sig.action(sig).disposition == signal::Disposition::Default
            {
                p.sig.pending &= !signal::bit(sig);
                if signal::default_action(sig) == DefaultAction::Stop {
                    self.stop(pid, sig);
                } else {
                    p.killed = Some(sig);
                    self.actions.push(Action::Terminate { pid, sig });
                }
                return;
            }
        }
        if due != 0 {
            p.sig_events.notify();
        }
    }

    fn sig_next(&mut self, pid: Pid) -> Option<(i32, u64)> {
        let p = self.procs.get_mut(pid).unwrap();
        let due = p.sig.deliverable();
        let sig = (1..=signal::NSIG).find(|s| due & signal::bit(*s) != 0)?;
        p.sig.pending &= !signal::bit(sig);
        let action = p.sig.action(sig);
        let restore = p.sig.suspend_saved.take().unwrap_or(p.sig.blocked);
        let mut add = action.mask;
        if action.flags & signal::SA_NODEFER == 0 {
            add |= signal::bit(sig);
        }
        p.sig.blocked = (p.sig.blocked | add) & !signal::UNBLOCKABLE;
        if action.flags & signal::SA_RESETHAND != 0 {
            *p.sig.action_mut(sig) = signal::SigAction::default();
        }
        Some((sig, restore))
    }

    fn setpgid(&mut self, caller: Pid, which: Pid, pgid: Pid) -> KResult<()> {
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let target = if which == 0 { caller } else { which };
        let caller_sid = self.procs.get(caller).unwrap().sid;
        let t = self.procs.get(target).ok_or(Errno::ESRCH)?;
        if target != caller && t.ppid != caller {
            return Err(Errno::ESRCH);
        }
        if t.sid != caller_sid || t.sid == target {
            return Err(Errno::EPERM);
        }
        let pgid = if pgid == 0 { target } else { pgid };
        if pgid != target
            && !self
                .procs
                .iter()
                .any(|p| p.pgid == pgid && p.sid == caller_sid)
        {
            return Err(Errno::EPERM);
        }
        self.procs.get_mut(target).unwrap().pgid = pgid;
        Ok(())
    }

    fn setsid(&mut self, pid: Pid) -> KResult<Pid> {
        if self.procs.group_exists(pid) {
            return Err(Errno::EPERM);
        }
        let p = self.procs.get_mut(pid).unwrap();
        p.sid = pid;
        p.pgid = pid;
        p.ctty = None;
        Ok(pid)
    }

    /// Ends `pid`: closes its fds (peers see EOF/EPIPE), makes it a zombie
    /// for its parent, and hands its children to the VM.
    pub fn exit(&mut self, pid: Pid, status: WaitStatus) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        if p.state != ProcState::Live {
            return;
        }
        p.fds.clear();
        p.state = ProcState::Zombie(status);
        self.itimers.clear(pid);
        // A controlling process that exits takes its terminal with it:
        // SIGHUP to the foreground group, and the tty is free again.
        let ctty = (p.sid == pid).then(|| p.ctty.take()).flatten();
        let ppid = p.ppid;
        tracing::debug!(pid, name = %p.name, status = status.0, "process exited");
        if let Some(tty) = ctty {
            if tty.session() == Some(pid) {
                let fg = tty.foreground();
                self.release_ctty(pid, &tty);
                if let Some(g) = fg {
                    self.signal_group(g, signal::SIGHUP);
                }
            }
        }
        for child in self.procs.children(pid).map(|c| c.pid).collect::<Vec<_>>() {
            let c = self.procs.get_mut(child).unwrap();
            c.ppid = 0;
            if let ProcState::Zombie(st) = c.state {
                self.procs.remove(child);
                tracing::debug!(pid = child, status = st.0, "orphan reaped");
            }
        }
        match self.procs.get(ppid) {
            Some(parent) => {
                parent.child_events.notify();
                self.send_signal(ppid, signal::SIGCHLD);
            }
            None => {
                self.procs.remove(pid);
                self.actions.push(Action::Exited { pid, status });
            }
        }
    }

    /// Forgets a spawned process whose guest never started: no zombie, no
    /// SIGCHLD, nothing for `wait`. It ran no code, so it has no children,
    /// timers or terminal of its own to hand on.
    fn unspawn(&mut self, pid: Pid) {
        let Some(p) = self.procs.get_mut(pid) else {
            return;
        };
        if p.state != ProcState::Live {
            return;
        }
        p.fds.clear();
        self.itimers.clear(pid);
        tracing::debug!(pid, name = %p.name, "spawned process never started");
        for child in self.procs.children(pid).map(|c| c.pid).collect::<Vec<_>>() {
            self.procs.get_mut(child).unwrap().ppid = 0;
        }
        self.procs.remove(pid);
    }

    /// Applies a call the guest did not wait for (`Msg::Post` in the
    /// runtime): only those that cannot fail or block qualify. It counts
    /// as made before any stop that raced with it.
    pub fn posted(&mut self, pid: Pid, call: Syscall) {
        match call {
            Syscall::ITimer {
                which: ITIMER_REAL,
                new: Some(v),
            } if self
                .procs
                .get(pid)
                .is_some_and(|p| p.state == ProcState::Live) =>
            {
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

    /// Pids of every live process (for VM shutdown).
    pub fn live_pids(&self) -> Vec<Pid> {
        self.procs
            .iter()
            .filter(|p| p.state == ProcState::Live)
            .map(|p| p.pid)
            .collect()
    }
}

/// Linux open flags to VFS flags plus description status bits.
pub fn open_flags(oflag: u32) -> (OpenFlags, u32) {
    use oflag::*;
    let acc = oflag & O_ACCMODE;
    let flags = OpenFlags {
        read: acc != O_WRONLY,
        write: acc == O_WRONLY || acc == O_RDWR,
        create: oflag & O_CREAT != 0,
        excl: oflag & O_EXCL != 0,
        truncate: oflag & O_TRUNC != 0,
        directory: oflag & O_DIRECTORY != 0,
        append: oflag & O_APPEND != 0,
        nofollow: oflag & O_NOFOLLOW != 0,
    };
    let mut st = oflag_to_status(oflag);
    if flags.read {
        st |= status::READ;
    }
    if flags.write {
        st |= status::WRITE;
    }
    (flags, st)
}

fn oflag_to_status(oflag: u32) -> u32 {
    let mut st = 0;
    if oflag & oflag::O_APPEND != 0 {
        st |= status::APPEND;
    }
    if oflag & oflag::O_NONBLOCK != 0 {
        st |= status::NONBLOCK;
    }
    st
}

fn status_to_oflag(st: u32) -> u32 {
    let mut o = match (st & status::READ != 0, st & status::WRITE != 0) {
        (true, true) => oflag::O_RDWR,
        (false, true) => oflag::O_WRONLY,
        _ => 0,
    };
    if st & status::APPEND != 0 {
        o |= oflag::O_APPEND;
    }
    if st & status::NONBLOCK != 0 {
        o |= oflag::O_NONBLOCK;
    }
    o
}

/// The N of `/dev/pts/N`, if `path` (from `base`) names one. `/dev` is a
/// device filesystem without links, so a lexical walk is exact.
fn pts_index(base: &str, path: &str) -> Option<u32> {
    let full = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in full.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    match parts.as_slice() {
        ["dev", "pts", n] if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            n.parse().ok()
        }
        _ => None,
    }
}

/// VMIN/VTIME for a blocked non-canonical tty read: `Some` result once the
/// VTIME timer has run out (what is there, possibly nothing), `None` to keep
/// waiting (arming the timer when it applies).
fn tty_read_timer(
    slave: &PtySlave,
    len: usize,
    timer: &mut Option<Instant>,
) -> Option<KResult<Vec<u8>>> {
    let pty = &slave.0;
    if pty.termios().lflag(crate::pty::termios::ICANON) {
        return None;
    }
    let (vmin, vtime) = pty.vmin_vtime();
    if vtime == 0 {
        return None;
    }
    // With VMIN > 0 the timer only starts once a byte has arrived.
    if vmin > 0 && pty.input_queued() == 0 {
        return None;
    }
    match *timer {
        None => {
            *timer =
                Some(Instant::now() + std::time::Duration::from_millis(100 * u64::from(vtime)));
            None
        }
        Some(t) if Instant::now() >= t => Some(pty.read_available(len)),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::poll::*;

    fn kernel() -> (Kernel, Pid) {
        let mut vfs = Vfs::new();
        vfs.mount_mem("/").unwrap();
        vfs.mount_dev("/dev").unwrap();
        let mut k = Kernel::new(vfs);
        let spec = InitSpec {
            name: "init".into(),
            cwd: "/".into(),
            stdio: [Stdio::Null, Stdio::Null, Stdio::Null],
        };
        let (pid, _) = k.create_process(spec).unwrap();
        (k, pid)
    }

    fn done(o: Outcome) -> Ret {
        match o {
            Outcome::Ready(Ok(r)) => r,
            other => panic!("expected success, got {other:?}"),
        }
    }

    fn fds(k: &mut Kernel, pid: Pid) -> (i32, i32) {
        match done(k.call(pid, &mut Syscall::Pipe2 { flags: 0 })) {
            Ret::Fds(r, w) => (r, w),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn preopen_and_stdio_are_in_place() {
        let (mut k, pid) = kernel();
        assert_eq!(
            done(k.call(pid, &mut Syscall::Prestat { fd: 3 })),
            Ret::Prestat("/".into())
        );
        let r = k.call(pid, &mut Syscall::Prestat { fd: 0 });
        assert!(matches!(r, Outcome::Ready(Err(Errno::EBADF))));
        assert_eq!(fds(&mut k, pid), (4, 5));
    }

    #[test]
    fn empty_pipe_read_blocks_until_a_write_notifies() {
        let (mut k, pid) = kernel();
        let (r, w) = fds(&mut k, pid);
        let keys = match k.call(
            pid,
            &mut Syscall::Read {
                fd: r,
                len: 10,
                timer: None,
                parked: false,
            },
        ) {
            Outcome::Block(keys) => keys,
            o => panic!("{o:?}"),
        };
        k.notifier().drain();
        let mut write = Syscall::Write {
            fd: w,
            data: b"hi".to_vec(),
            done: 0,
        };
        assert_eq!(done(k.call(pid, &mut write)), Ret::Size(2));
        let woken = k.notifier().drain();
        assert!(keys.iter().all(|key| woken.contains(key)));
        assert_eq!(
            done(k.call(
                pid,
                &mut Syscall::Read {
                    fd: r,
                    len: 10,
                    timer: None,
                    parked: false,
                }
            )),
            Ret::Bytes(b"hi".to_vec())
        );
    }

    #[test]
    fn nonblocking_read_is_eagain() {
        let (mut k, pid) = kernel();
        let (r, _w) = fds(&mut k, pid);
        done(k.call(
            pid,
            &mut Syscall::Fcntl {
                fd: r,
                cmd: 4,
                arg: oflag::O_NONBLOCK as i32,
            },
        ));
        let o = k.call(
            pid,
            &mut Syscall::Read {
                fd: r,
                len: 10,
                timer: None,
                parked: false,
            },
        );
        assert!(matches!(o, Outcome::Ready(Err(Errno::EAGAIN))));
    }

    #[test]
    fn large_blocking_write_keeps_its_progress() {
        let (mut k, pid) = kernel();
        let (r, w) = fds(&mut k, pid);
        let mut write = Syscall::Write {
            fd: w,
            data: vec![7; 100_000],
            done: 0,
        };
        assert!(matches!(k.call(pid, &mut write), Outcome::Block(_)));
        let Syscall::Write { done: progress, .. } = write else {
            unreachable!()
        };
        assert_eq!(progress, crate::pipe::PIPE_CAPACITY);
        let mut total = 0;
        while let Ret::Bytes(b) = done(k.call(
            pid,
            &mut Syscall::Read {
                fd: r,
                len: 1 << 20,
                timer: None,
                parked: false,
            },
        )) {
            total += b.len();
            if let Outcome::Ready(r) = k.call(pid, &mut write) {
                assert_eq!(r.unwrap(), Ret::Size(100_000));
                break;
            }
        }
        assert!(total >= crate::pipe::PIPE_CAPACITY);
    }

    #[test]
    fn child_exit_closes_fds_and_is_reaped_once() {
        let (mut k, parent) = kernel();
        let (r, w) = fds(&mut k, parent);
        let req = SpawnRequest {
            name: "child".into(),
            actions: vec![SpawnAction::Dup2 { fd: w, newfd: 1 }],
            attr: SpawnAttr::default(),
        };
        let child = match done(k.call(parent, &mut Syscall::Spawn(req))) {
            Ret::Pid(p) => p,
            r => panic!("{r:?}"),
        };
        done(k.call(parent, &mut Syscall::Close { fd: w }));
        let mut wait = Syscall::Wait {
            pid: -1,
            options: WNOHANG,
        };
        assert_eq!(
            done(k.call(parent, &mut wait)),
            Ret::Waited {
                pid: 0,
                status: WaitStatus(0)
            }
        );
        let mut wait = Syscall::Wait {
            pid: child,
            options: 0,
        };
        assert!(matches!(k.call(parent, &mut wait), Outcome::Block(_)));
        // The child holds the only write end: the reader sees data, then EOF.
        done(k.call(
            child,
            &mut Syscall::Write {
                fd: 1,
                data: b"x".to_vec(),
                done: 0,
            },
        ));
        done(k.call(
            child,
            &mut Syscall::Exit {
                status: WaitStatus::exited(3),
            },
        ));
        assert_eq!(
            done(k.call(
                parent,
                &mut Syscall::Read {
                    fd: r,
                    len: 8,
                    timer: None,
                    parked: false,
                }
            )),
            Ret::Bytes(b"x".to_vec())
        );
        assert_eq!(
            done(k.call(
                parent,
                &mut Syscall::Read {
                    fd: r,
                    len: 8,
                    timer: None,
                    parked: false,
                }
            )),
            Ret::Bytes(vec![])
        );
        assert_eq!(
            done(k.call(parent, &mut wait)),
            Ret::Waited {
                pid: child,
                status: WaitStatus::exited(3)
            }
        );
        let o = k.call(
            parent,
            &mut Syscall::Wait {
                pid: -1,
                options: 0,
            },
        );
        assert!(matches!(o, Outcome::Ready(Err(Errno::ECHILD))));
    }

    #[test]
    fn kill_terminates_and_epipe_raises_sigpipe() {
        let (mut k, parent) = kernel();
        let req = SpawnRequest {
            name: "c".into(),
            actions: vec![],
            attr: SpawnAttr::default(),
        };
        let Ret::Pid(child) = done(k.call(parent, &mut Syscall::Spawn(req))) else {
            panic!()
        };
        done(k.call(
            parent,
            &mut Syscall::Kill {
                pid: child,
                sig: signal::SIGTERM,
            },
        ));
        assert_eq!(
            k.take_actions(),
            vec![Action::Terminate {
                pid: child,
                sig: signal::SIGTERM
            }]
        );
        let o = k.call(child, &mut Syscall::GetPpid);
        assert!(matches!(o, Outcome::Ready(Err(Errno::EINTR))));
        let o = k.call(parent, &mut Syscall::Kill { pid: 999, sig: 0 });
        assert!(matches!(o, Outcome::Ready(Err(Errno::ESRCH))));

        let (r, w) = fds(&mut k, parent);
        done(k.call(parent, &mut Syscall::Close { fd: r }));
        let o = k.call(
            parent,
            &mut Syscall::Write {
                fd: w,
                data: b"x".to_vec(),
                done: 0,
            },
        );
        assert!(matches!(o, Outcome::Ready(Err(Errno::EPIPE))));
        assert!(k.take_actions().contains(&Action::Terminate {
            pid: parent,
            sig: signal::SIGPIPE
        }));
    }

    #[test]
    fn poll_reports_readiness_and_hangup() {
        let (mut k, pid) = kernel();
        let (r, w) = fds(&mut k, pid);
        let subs = vec![PollSub {
            userdata: 1,
            kind: PollKind::Read(r),
        }];
        assert!(matches!(
            k.call(pid, &mut Syscall::Poll { subs: subs.clone() }),
            Outcome::Block(_)
        ));
        let wsubs = vec![PollSub {
            userdata: 2,
            kind: PollKind::Write(w),
        }];
        let Ret::Events(ev) = done(k.call(pid, &mut Syscall::Poll { subs: wsubs })) else {
            panic!()
        };
        assert_eq!(ev[0].kind, PollEventKind::Write);
        done(k.call(pid, &mut Syscall::Close { fd: w }));
        let Ret::Events(ev) = done(k.call(pid, &mut Syscall::Poll { subs })) else {
            panic!()
        };
        assert!(ev[0].hangup);
        let f = k.file(pid, r).unwrap();
        assert_eq!(f.desc.poll(), POLLHUP);
    }

    #[test]
    fn spawn_file_actions_follow_posix() {
        let (mut k, parent) = kernel();
        let (r, w) = fds(&mut k, parent);
        done(k.call(
            parent,
            &mut Syscall::Fcntl {
                fd: r,
                cmd: 2,
                arg: 1,
            },
        ));
        let req = SpawnRequest {
            name: "c".into(),
            actions: vec![
                SpawnAction::Close(0),
                SpawnAction::Open {
                    newfd: 0,
                    path: "/f".into(),
                    oflag: oflag::O_CREAT | oflag::O_WRONLY,
                    mode: 0o644,
                },
                SpawnAction::Dup2 { fd: w, newfd: 7 },
                SpawnAction::Close(42),
            ],
            attr: SpawnAttr {
                pgroup: Some(0),
                ..Default::default()
            },
        };
        let Ret::Pid(child) = done(k.call(parent, &mut Syscall::Spawn(req))) else {
            panic!()
        };
        let c = k.process(child).unwrap();
        assert_eq!(c.pgid, child);
        assert!(c.fds.get(r).is_err(), "close-on-exec fd was inherited");
        assert!(c.fds.get(7).is_ok());
        assert!(c.fds.get(0).unwrap().file.writable());
        assert!(k.vfs.stat("/", "/f", true).is_ok());
    }

    fn spawn_plain(k: &mut Kernel, parent: Pid) -> KResult<Pid> {
        let req = SpawnRequest {
            name: "c".into(),
            actions: Vec::new(),
            attr: SpawnAttr::default(),
        };
        match k.call(parent, &mut Syscall::Spawn(req)) {
            Outcome::Ready(Ok(Ret::Pid(p))) => Ok(p),
            Outcome::Ready(Err(e)) => Err(e),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn process_limit_counts_zombies_and_gives_eagain() {
        let (mut k, init) = kernel();
        k.set_limits(Limits {
            processes: 3,
            files: 10,
        });
        let a = spawn_plain(&mut k, init).unwrap();
        let b = spawn_plain(&mut k, init).unwrap();
        assert_eq!(spawn_plain(&mut k, init), Err(Errno::EAGAIN));
        // A zombie still holds its pid; reaping it frees the slot.
        done(k.call(
            a,
            &mut Syscall::Exit {
                status: WaitStatus::exited(0),
            },
        ));
        assert_eq!(spawn_plain(&mut k, init), Err(Errno::EAGAIN));
        let reaped = k.call(init, &mut Syscall::Wait { pid: a, options: 0 });
        assert!(matches!(reaped, Outcome::Ready(Ok(Ret::Waited { .. }))));
        let c = spawn_plain(&mut k, init).unwrap();
        // A child whose guest never started vanishes: no zombie, no SIGCHLD,
        // nothing to wait for, and its slot is free again.
        let pending = k.process(init).unwrap().sig.pending;
        done(k.call(c, &mut Syscall::SpawnFailed));
        assert!(k.process(c).is_none());
        assert_eq!(k.process(init).unwrap().sig.pending, pending);
        let none = k.call(init, &mut Syscall::Wait { pid: c, options: 0 });
        assert!(
            matches!(none, Outcome::Ready(Err(Errno::ECHILD))),
            "{none:?}"
        );
        assert!(spawn_plain(&mut k, init).is_ok());
        let _ = b;
    }

    #[test]
    fn vm_file_limit_gives_enfile_until_a_file_closes() {
        let (mut k, init) = kernel();
        k.set_limits(Limits {
            processes: 8,
            files: 2,
        });
        let open = |k: &mut Kernel, pid: Pid, path: &str| {
            let mut call = Syscall::PathOpen {
                dirfd: 3,
                path: path.into(),
                flags: OpenFlags {
                    read: true,
                    write: true,
                    create: true,
                    ..OpenFlags::default()
                },
                status: 0,
                cloexec: false,
                noctty: false,
            };
            match k.call(pid, &mut call) {
                Outcome::Ready(Ok(Ret::Fd(fd))) => Ok(fd),
                Outcome::Ready(Err(e)) => Err(e),
                o => panic!("{o:?}"),
            }
        };
        let a = open(&mut k, init, "/a").unwrap();
        let _b = open(&mut k, init, "/b").unwrap();
        assert_eq!(open(&mut k, init, "/c"), Err(Errno::ENFILE));
        // Nothing was created by the refused open.
        assert!(k.vfs.stat("/", "/c", true).is_err());
        // Pipes and dups are not opened by path and do not count.
        fds(&mut k, init);
        let Ret::Fd(dup_fd) = done(k.call(init, &mut Syscall::Dup { fd: a })) else {
            panic!()
        };
        assert_eq!(k.open_files(), 2);
        // An inherited copy keeps the file open after the parent closes it.
        let child = spawn_plain(&mut k, init).unwrap();
        done(k.call(init, &mut Syscall::Close { fd: a }));
        done(k.call(init, &mut Syscall::Close { fd: dup_fd }));
        assert_eq!(open(&mut k, init, "/c"), Err(Errno::ENFILE));
        done(k.call(
            child,
            &mut Syscall::Exit {
                status: WaitStatus::exited(0),
            },
        ));
        assert_eq!(k.open_files(), 1);
        assert!(open(&mut k, init, "/c").is_ok());
    }

    #[test]
    fn host_connections_count_as_open_files() {
        let (mut k, init) = kernel();
        k.set_limits(Limits {
            processes: 8,
            files: 1,
        });
        let Ret::Fd(l) = done(k.call(
            init,
            &mut Syscall::Socket {
                domain: 1,
                ty: 1,
                protocol: 0,
            },
        )) else {
            panic!()
        };
        let mut addr = 1u16.to_le_bytes().to_vec();
        addr.extend_from_slice(b"/s\0");
        done(k.call(init, &mut Syscall::Bind { fd: l, addr }));
        done(k.call(init, &mut Syscall::Listen { fd: l, backlog: 4 }));
        let id = k.bridge_connect("/s").unwrap();
        assert_eq!(k.open_files(), 1);
        assert_eq!(k.bridge_connect("/s"), Err(Errno::ECONNREFUSED));
        k.bridge_close(id);
        assert_eq!(k.open_files(), 0);
        assert!(k.bridge_connect("/s").is_ok());
    }
}
