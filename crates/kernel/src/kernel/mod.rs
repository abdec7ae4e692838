//! The kernel: every process, the VFS, and the dispatch of [`Syscall`]s.
//!
//! This file holds the [`Kernel`], its construction, the creation of the
//! processes the VM starts, and the dispatch. Each area's calls are handled
//! in a file of their own, as `impl Kernel` blocks: `fs` (files and paths),
//! `fd` (the descriptor table), `poll`, `ioctl`, `process` (spawn, wait,
//! exit), `signal`, `session` (groups, sessions, job control, controlling
//! terminals), `net` (sockets), `bridge` (host bridges), `stdin` (host
//! stdin), `timer` (interval timers) and `limits`.

mod bridge;
mod fd;
mod fs;
mod ioctl;
mod limits;
mod net;
mod poll;
mod process;
mod session;
mod signal;
mod stdin;
mod timer;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

pub use crate::action::Action;
use crate::errno::{Errno, KResult};
use crate::fd_table::{FdEntry, FdTable};
use crate::file::{status, FileDescription, OpenFile};
use crate::host::{HostFileStream, HostOutput, HostStream};
use crate::process::{Pid, ProcessTable};
use crate::pty::device::{PtyTable, TtyEvents};
use crate::pty::termios::Winsize;
use crate::syscall::{ready, Outcome, Ret, Syscall};
use crate::unix::bridge::{BridgeId, Bridges};
use crate::vfs::{OpenFlags, Vfs};
use crate::wait::{Notifier, WaitKey};
pub use fs::open_flags;
pub use limits::Limits;
/// The one interval timer `setitimer` supports.
pub use sidecar_abi::consts::itimer::ITIMER_REAL;
/// Waitpid option bit (Linux).
pub use sidecar_abi::consts::wait::WNOHANG;
use stdin::HostStdin;

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
    Tty(Winsize),
}

/// What the VM knows about a guest it starts.
#[derive(Debug, Clone)]
pub struct InitSpec {
    pub name: String,
    /// Absolute VFS path.
    pub cwd: String,
    pub stdio: [Stdio; 3],
}

/// Every process, the VFS, and every kernel object reachable from them.
///
/// Owned by exactly one thread (the runtime's service thread): calls run
/// one at a time, and no lock is held for longer than one object
/// operation. Lock order when two are held: an object's own state (a
/// socket's before its connection's, a pty's before the tty events), then
/// the notifier, always innermost.
///
/// Invariants: an operation never blocks (it answers `Outcome::Block` with
/// the queues to wait on, and a retry is always safe); whatever the runtime
/// must do is queued in `actions`, in order; what terminals ask for
/// (`tty_events`) is delivered before a call returns.
#[derive(Debug)]
pub struct Kernel {
    /// Shared with the runtime, which resolves `stat` on the calling
    /// guest's own thread; mounts are fixed once the kernel exists.
    pub vfs: Arc<Vfs>,
    pub(crate) procs: ProcessTable,
    notifier: Notifier,
    actions: Vec<Action>,
    stdin: HostStdin,
    pub(crate) unix: crate::unix::Namespace,
    bridges: Bridges,
    ptys: Arc<Mutex<PtyTable>>,
    tty_events: TtyEvents,
    itimers: crate::timer::ITimers,
    limits: Limits,
    files: crate::file::FileCount,
}

impl Kernel {
    pub fn new(mut vfs: Vfs) -> Kernel {
        let notifier = Notifier::new();
        let ptys: Arc<Mutex<PtyTable>> = Arc::default();
        let tty_events: TtyEvents = Arc::default();
        {
            let (ptys, events, notifier) = (ptys.clone(), tty_events.clone(), notifier.clone());
            vfs.register_device(
                "ptmx",
                Box::new(move || {
                    let m = ptys.lock().unwrap().open_master(&notifier, &events);
                    Ok(m as Arc<dyn FileDescription>)
                }),
            );
        }
        // /dev/tty is the opener's controlling terminal, so open_desc
        // serves it; this entry makes it exist for stat and readdir.
        vfs.register_device("tty", Box::new(|| Err(Errno::ENXIO)));
        Kernel {
            vfs: Arc::new(vfs),
            procs: ProcessTable::new(),
            notifier,
            actions: Vec::new(),
            stdin: HostStdin::default(),
            unix: crate::unix::Namespace::default(),
            bridges: Bridges::default(),
            ptys,
            tty_events,
            itimers: Default::default(),
            limits: Limits::default(),
            files: crate::file::FileCount::new(Limits::DEFAULT_FILES),
        }
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
    pub fn create_process(&mut self, spec: InitSpec) -> KResult<(Pid, Option<BridgeId>)> {
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
            self.procs.get_mut(pid).unwrap().set_ctty(master.0.clone());
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
            Stdio::Inherit => self.stdin_reader(),
            Stdio::Tty(_) => unreachable!("create_process handles terminals"),
            Stdio::HostFile(path) => {
                let file = if out {
                    std::fs::File::create(path)
                } else {
                    std::fs::File::open(path)
                }
                .map_err(Errno::from)?;
                OpenFile::new(Arc::new(HostFileStream::new(file)), access)
            }
        })
    }

    /// Called by the scheduler with every batch of notified keys.
    pub fn on_wakeup(&mut self, keys: &HashSet<WaitKey>) {
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

    fn call_once(&mut self, pid: Pid, call: &mut Syscall) -> Outcome {
        match self.procs.get(pid) {
            None => return Outcome::Ready(Err(Errno::ESRCH)),
            // A stopped process waits for SIGCONT before any call proceeds.
            Some(p) if p.is_stopped() && p.killed().is_none() && !call.ends_process() => {
                return Outcome::Block(vec![p.sig_events().key()])
            }
            // A killed process may still report its exit, and nothing else.
            Some(p) if (p.killed().is_some() || !p.is_live()) && !call.ends_process() => {
                return Outcome::Ready(Err(Errno::EINTR))
            }
            _ => {}
        }
        use Syscall as S;
        match call {
            // fs.rs: files and paths
            S::Read {
                fd,
                len,
                timer,
                parked,
            } => self.read(pid, *fd, *len, timer, parked),
            S::Pread { fd, len, offset } => self.pread(pid, *fd, *len, *offset),
            S::Write { fd, data, done } => self.write(pid, *fd, data, done),
            S::Pwrite { fd, data, offset } => self.pwrite(pid, *fd, data, *offset),
            S::Seek { fd, offset, whence } => self.seek(pid, *fd, *offset, *whence),
            S::Sync { fd } => self.sync(pid, *fd),
            S::FileStat { fd } => self.file_stat(pid, *fd),
            S::SetSize { fd, size } => self.set_size(pid, *fd, *size),
            S::SetTimes { fd, atime, mtime } => self.set_times(pid, *fd, *atime, *mtime),
            S::Allocate { fd, offset, len } => self.allocate(pid, *fd, *offset, *len),
            S::Advise { fd } => self.advise(pid, *fd),
            S::Readdir { fd, cookie } => self.readdir(pid, *fd, *cookie),
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
            S::PathMkdir { dirfd, path } => self.path_mkdir(pid, *dirfd, path),
            S::PathStat {
                dirfd,
                path,
                follow,
            } => self.path_stat(pid, *dirfd, path, *follow),
            S::DirPath { dirfd } => ready(self.base(pid, *dirfd), |path| {
                let table = self.fds(pid).generation();
                let at = table.get();
                Ret::DirPath { path, table, at }
            }),
            S::PathSetTimes {
                dirfd,
                path,
                follow,
                atime,
                mtime,
            } => self.path_set_times(pid, *dirfd, path, *follow, *atime, *mtime),
            S::PathLink {
                dirfd,
                path,
                follow,
                new_dirfd,
                new_path,
            } => self.path_link(pid, *dirfd, path, *follow, *new_dirfd, new_path),
            S::PathReadlink { dirfd, path } => self.path_readlink(pid, *dirfd, path),
            S::PathRmdir { dirfd, path } => self.path_rmdir(pid, *dirfd, path),
            S::PathRename {
                dirfd,
                path,
                new_dirfd,
                new_path,
            } => self.path_rename(pid, *dirfd, path, *new_dirfd, new_path),
            S::PathSymlink {
                target,
                dirfd,
                path,
            } => self.path_symlink(pid, target, *dirfd, path),
            S::PathUnlink { dirfd, path } => self.path_unlink(pid, *dirfd, path),
            // fd.rs: the descriptor table
            S::Close { fd } => self.close(pid, *fd),
            S::FdStat { fd } => self.fd_stat(pid, *fd),
            S::FdSetStatus { fd, status } => self.fd_set_status(pid, *fd, *status),
            S::Prestat { fd } => self.prestat(pid, *fd),
            S::Renumber { from, to } => ready(self.renumber(pid, *from, *to), |_| Ret::Unit),
            S::Pipe2 { flags } => ready(self.pipe2(pid, *flags), |(r, w)| Ret::Fds(r, w)),
            S::Dup { fd } => self.dup(pid, *fd),
            S::Dup3 { old, new, flags } => ready(self.dup3(pid, *old, *new, *flags), Ret::Fd),
            S::Fcntl { fd, cmd, arg } => ready(self.fcntl(pid, *fd, *cmd, *arg), Ret::Int),
            // poll.rs
            S::Poll { subs } => self.poll(pid, subs),
            S::PollFds { fds, deadline } => self.poll_fds(pid, fds, *deadline),
            // ioctl.rs
            S::Ioctl {
                fd,
                request,
                arg,
                data,
            } => self.ioctl(pid, *fd, *request, *arg, data),
            // process.rs: spawn, wait, exit
            S::ResolveProgram { path, cwd, chdirs } => {
                self.resolve_program(pid, path, cwd.as_deref(), chdirs)
            }
            S::Spawn(req) => ready(self.spawn(pid, req), Ret::Pid),
            S::Fork => ready(self.fork(pid), Ret::Pid),
            S::Exec { name, cwd } => ready(self.exec(pid, name, cwd), |()| Ret::Unit),
            S::SpawnFailed => {
                self.unspawn(pid);
                Outcome::Ready(Ok(Ret::Unit))
            }
            S::Wait {
                pid: which,
                options,
            } => self.wait(pid, *which, *options),
            S::Exit { status } => {
                self.exit(pid, *status);
                Outcome::Ready(Ok(Ret::Unit))
            }
            S::GetPpid => self.getppid(pid),
            S::InitialCwd => self.initial_cwd(pid),
            // signal.rs
            S::Kill { pid: target, sig } => ready(self.kill(pid, *target, *sig), |_| Ret::Unit),
            S::SigAction { sig, action } => {
                ready(self.sigaction(pid, *sig, *action), |_| Ret::Unit)
            }
            S::SigProcMask { how, set } => ready(self.sigprocmask(pid, *how, *set), Ret::SigSet),
            S::SigPending => self.sigpending(pid),
            S::SigIgnored => self.sigignored(pid),
            S::SigSuspend { mask } => self.sigsuspend(pid, *mask),
            S::SigNext => Outcome::Ready(Ok(Ret::SigDeliver(self.sig_next(pid)))),
            S::SigReturn { mask } => self.sigreturn(pid, *mask),
            // session.rs: groups, sessions, job control
            S::GetPgid { pid: which } => self.getpgid(pid, *which),
            S::SetPgid { pid: which, pgid } => {
                ready(self.setpgid(pid, *which, *pgid), |_| Ret::Unit)
            }
            S::GetSid { pid: which } => self.getsid(pid, *which),
            S::SetSid => ready(self.setsid(pid), Ret::Pid),
            // Reached only once the process is not stopped.
            S::StopPoint => Outcome::Ready(Ok(Ret::Unit)),
            // timer.rs
            S::ITimer { which, new } => self.itimer(pid, *which, *new),
            // net.rs: sockets
            S::Socket {
                domain,
                ty,
                protocol,
            } => ready(self.socket(pid, *domain, *ty, *protocol), Ret::Fd),
            S::SocketPair {
                domain,
                ty,
                protocol,
            } => ready(self.socketpair(pid, *domain, *ty, *protocol), |(a, b)| {
                Ret::Fds(a, b)
            }),
            S::Bind { fd, addr } => ready(self.bind(pid, *fd, addr), |_| Ret::Unit),
            S::Listen { fd, backlog } => self.listen(pid, *fd, *backlog),
            S::Accept { fd, flags } => self.accept(pid, *fd, *flags),
            S::Connect { fd, addr } => self.connect(pid, *fd, addr),
            S::SendMsg {
                fd,
                data,
                fds,
                flags,
                addr,
                done,
            } => self.sendmsg(pid, *fd, data, fds, *flags, addr.as_deref(), done),
            S::RecvMsg {
                fd,
                len,
                flags,
                fds_cap,
                acc,
            } => self.recvmsg(pid, *fd, *len, *flags, *fds_cap, acc),
            S::Shutdown { fd, how } => self.shutdown(pid, *fd, *how),
            S::SockName { fd, peer } => self.sockname(pid, *fd, *peer),
            S::GetSockOpt { fd, level, name } => {
                ready(self.getsockopt(pid, *fd, *level, *name), Ret::SockOpt)
            }
            S::SetSockOpt {
                fd,
                level,
                name,
                value,
            } => ready(self.setsockopt(pid, *fd, *level, *name, value), |_| {
                Ret::Unit
            }),
        }
    }
}
