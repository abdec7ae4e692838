//! The system call surface: one [`Syscall`] per kernel entry the runtime can
//! make on behalf of a guest, and the [`Ret`] it produces.
//!
//! A call either completes ([`Outcome::Ready`]) or must wait
//! ([`Outcome::Block`]) on the returned queues. Blocking calls check before
//! they change anything, so retrying a parked call after a wakeup is always
//! safe; the one call that makes progress while blocked (a large `Write`)
//! records it in the call itself (`done`).

use std::time::Instant;

use crate::errno::{Errno, KResult};
use crate::file::{DirEntry, FileType, SetTime, Stat, Whence};
use crate::process::{Pid, WaitStatus};
use crate::vfs::{OpenFlags, Program};
use crate::wait::WaitKey;

/// Linux open(2) flag bits, as carried by the `host_proc` ABI.
pub use sidecar_abi::consts::oflag;

/// One subscription of a poll.
#[derive(Debug, Clone)]
pub struct PollSub {
    pub userdata: u64,
    pub kind: PollKind,
}

#[derive(Debug, Clone, Copy)]
pub enum PollKind {
    /// Fires once `deadline` has passed.
    Clock {
        deadline: Instant,
    },
    Read(i32),
    Write(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollEvent {
    pub userdata: u64,
    pub error: Option<Errno>,
    pub kind: PollEventKind,
    /// Bytes available to read (read events).
    pub nbytes: u64,
    pub hangup: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollEventKind {
    Clock,
    Read,
    Write,
}

/// A `posix_spawn` file action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnAction {
    Close(i32),
    Dup2 {
        fd: i32,
        newfd: i32,
    },
    Open {
        newfd: i32,
        path: String,
        oflag: u32,
        mode: u32,
    },
    Chdir(String),
}

/// `posix_spawn` attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpawnAttr {
    /// `Some(0)` puts the child in a new group of its own.
    pub pgroup: Option<Pid>,
    pub setsid: bool,
    /// Absolute VFS path; the parent's cwd if `None`.
    pub cwd: Option<String>,
    pub sigdefault: u64,
    pub sigmask: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct SpawnRequest {
    /// Short name for logs (the program's file name).
    pub name: String,
    pub actions: Vec<SpawnAction>,
    pub attr: SpawnAttr,
}

/// A call into the kernel. Fd and path arguments are the guest's.
#[derive(Debug)]
pub enum Syscall {
    /// `timer`: when a non-canonical tty read with VTIME gives up;
    /// `parked`: the call has blocked before (a hangup then gives `EIO`).
    Read {
        fd: i32,
        len: usize,
        timer: Option<Instant>,
        parked: bool,
    },
    Pread {
        fd: i32,
        len: usize,
        offset: u64,
    },
    /// `done` is how much of `data` a blocked call has already written.
    Write {
        fd: i32,
        data: Vec<u8>,
        done: usize,
    },
    Pwrite {
        fd: i32,
        data: Vec<u8>,
        offset: u64,
    },
    Seek {
        fd: i32,
        offset: i64,
        whence: Whence,
    },
    Close {
        fd: i32,
    },
    Sync {
        fd: i32,
    },
    FdStat {
        fd: i32,
    },
    FdSetStatus {
        fd: i32,
        status: u32,
    },
    FileStat {
        fd: i32,
    },
    SetSize {
        fd: i32,
        size: u64,
    },
    SetTimes {
        fd: i32,
        atime: SetTime,
        mtime: SetTime,
    },
    Allocate {
        fd: i32,
        offset: u64,
        len: u64,
    },
    /// Validates `fd`; advice itself is ignored, as Linux may.
    Advise {
        fd: i32,
    },
    Prestat {
        fd: i32,
    },
    Readdir {
        fd: i32,
        cookie: u64,
    },
    Renumber {
        from: i32,
        to: i32,
    },
    PathOpen {
        dirfd: i32,
        path: String,
        flags: OpenFlags,
        status: u32,
        cloexec: bool,
        /// Do not make a terminal the caller's controlling tty.
        noctty: bool,
    },
    PathMkdir {
        dirfd: i32,
        path: String,
    },
    PathStat {
        dirfd: i32,
        path: String,
        follow: bool,
    },
    /// The VFS path of directory fd `dirfd`, for a lookup the caller makes
    /// itself.
    DirPath {
        dirfd: i32,
    },
    PathSetTimes {
        dirfd: i32,
        path: String,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    },
    PathLink {
        dirfd: i32,
        path: String,
        follow: bool,
        new_dirfd: i32,
        new_path: String,
    },
    PathReadlink {
        dirfd: i32,
        path: String,
    },
    PathRmdir {
        dirfd: i32,
        path: String,
    },
    PathRename {
        dirfd: i32,
        path: String,
        new_dirfd: i32,
        new_path: String,
    },
    PathSymlink {
        target: String,
        dirfd: i32,
        path: String,
    },
    PathUnlink {
        dirfd: i32,
        path: String,
    },
    Poll {
        subs: Vec<PollSub>,
    },
    /// Finds the module `Spawn` will run: `path` is relative to `cwd` (the
    /// caller's if `None`) after the spawn's `Chdir` actions, as POSIX has it.
    ResolveProgram {
        path: String,
        cwd: Option<String>,
        chdirs: Vec<String>,
    },
    Spawn(SpawnRequest),
    /// `fork`: a child that is a copy of the caller as fork(2) lists it
    /// (the runtime copies the memory). Like `Spawn`, the runtime then
    /// starts it or reports `SpawnFailed`.
    Fork,
    /// Commits an `execve` whose new image the runtime has already loaded:
    /// the process keeps its pid, parent, group, session, timers, signal
    /// mask and pending set; its close-on-exec fds close, caught signals
    /// revert to their default, and `cwd` (the caller's working directory,
    /// which the guest keeps itself) becomes its own. Cannot fail once
    /// `cwd` resolves.
    Exec {
        name: String,
        cwd: String,
    },
    Wait {
        pid: Pid,
        options: u32,
    },
    Kill {
        pid: Pid,
        sig: i32,
    },
    GetPpid,
    GetPgid {
        pid: Pid,
    },
    SetPgid {
        pid: Pid,
        pgid: Pid,
    },
    GetSid {
        pid: Pid,
    },
    SetSid,
    InitialCwd,
    Pipe2 {
        flags: u32,
    },
    Dup {
        fd: i32,
    },
    Dup3 {
        old: i32,
        new: i32,
        flags: u32,
    },
    Fcntl {
        fd: i32,
        cmd: i32,
        arg: i32,
    },
    Exit {
        status: WaitStatus,
    },
    /// Made on behalf of a spawned process whose guest could not be started
    /// (no thread, no instance): it vanishes without a zombie or SIGCHLD,
    /// as if the spawn had failed, and its parent's spawn returns an error.
    SpawnFailed,
    Socket {
        domain: i32,
        ty: i32,
        protocol: i32,
    },
    SocketPair {
        domain: i32,
        ty: i32,
        protocol: i32,
    },
    Bind {
        fd: i32,
        addr: Vec<u8>,
    },
    Listen {
        fd: i32,
        backlog: i32,
    },
    Accept {
        fd: i32,
        flags: u32,
    },
    Connect {
        fd: i32,
        addr: Vec<u8>,
    },
    /// `done`: bytes already queued by a blocked stream send.
    SendMsg {
        fd: i32,
        data: Vec<u8>,
        fds: Vec<i32>,
        flags: u32,
        addr: Option<Vec<u8>>,
        done: usize,
    },
    /// `acc`: what a blocked `MSG_WAITALL` receive has gathered so far.
    RecvMsg {
        fd: i32,
        len: usize,
        flags: u32,
        fds_cap: usize,
        acc: Option<crate::unix::socket::Received>,
    },
    Shutdown {
        fd: i32,
        how: i32,
    },
    SockName {
        fd: i32,
        peer: bool,
    },
    GetSockOpt {
        fd: i32,
        level: i32,
        name: i32,
    },
    SetSockOpt {
        fd: i32,
        level: i32,
        name: i32,
        value: Vec<u8>,
    },
    /// Linux `poll(2)`: `(fd, events)` pairs; `deadline` `None` waits forever.
    PollFds {
        fds: Vec<(i32, u16)>,
        deadline: Option<Instant>,
    },
    /// `arg` is the request's value argument; `data` what a pointer
    /// argument points to, for requests that read one.
    Ioctl {
        fd: i32,
        request: u32,
        arg: i32,
        data: Vec<u8>,
    },
    /// Sets the disposition of `sig` (the handler itself lives in the guest).
    SigAction {
        sig: i32,
        action: crate::signal::SigAction,
    },
    /// `sigprocmask(how, set)`; returns the old mask.
    SigProcMask {
        how: i32,
        set: u64,
    },
    SigPending,
    /// The signals whose disposition is `SIG_IGN`: what a new image
    /// (spawned or exec'd) inherited, for the SDK's `sigaction` queries.
    SigIgnored,
    /// Waits with `mask` blocked until a handler is due; always `EINTR`.
    /// `None` keeps the current mask (`pause`), in the same step.
    SigSuspend {
        mask: Option<u64>,
    },
    /// Takes the next deliverable caught signal and blocks what its handler
    /// needs blocked; returns the signal and the mask to restore.
    SigNext,
    /// A handler returned: restore `mask`.
    SigReturn {
        mask: u64,
    },
    /// Running wasm of a stopped process checks in; returns once continued.
    StopPoint,
    /// `setitimer(which, new)`, or `getitimer(which)` when `new` is `None`;
    /// returns the old setting. Only `ITIMER_REAL` (0) exists.
    ITimer {
        which: i32,
        new: Option<crate::timer::ITimerVal>,
    },
}

impl Syscall {
    /// Whether the call ends the calling process (allowed even once it is
    /// killed or stopped).
    pub fn ends_process(&self) -> bool {
        matches!(self, Syscall::Exit { .. } | Syscall::SpawnFailed)
    }

    /// When a parked call must be retried even without a wakeup.
    pub fn deadline(&self) -> Option<Instant> {
        match self {
            Syscall::Poll { subs } => subs
                .iter()
                .filter_map(|s| match s.kind {
                    PollKind::Clock { deadline } => Some(deadline),
                    _ => None,
                })
                .min(),
            Syscall::PollFds { deadline, .. } => *deadline,
            Syscall::Read { timer, .. } => *timer,
            _ => None,
        }
    }
}

/// What a completed call returns.
#[derive(Debug, PartialEq)]
pub enum Ret {
    Unit,
    Size(usize),
    Offset(u64),
    Bytes(Vec<u8>),
    Stat(Stat),
    Fd(i32),
    Fds(i32, i32),
    FdStat {
        file_type: FileType,
        status: u32,
        tty: bool,
    },
    Prestat(String),
    Entries(Vec<DirEntry>),
    Events(Vec<PollEvent>),
    Program(Program),
    Pid(Pid),
    Waited {
        pid: Pid,
        status: WaitStatus,
    },
    Int(i32),
    Text(String),
    /// A directory fd's VFS path, valid while `table` reads `at`.
    DirPath {
        path: String,
        table: crate::fd_table::Generation,
        at: u64,
    },
    Accepted {
        fd: i32,
        addr: Vec<u8>,
    },
    /// `len` is what recvmsg returns (a datagram's full length under
    /// MSG_TRUNC), `data` what it copies.
    Received {
        len: usize,
        data: Vec<u8>,
        fds: Vec<i32>,
        addr: Vec<u8>,
        flags: u32,
    },
    SockOpt(SockOpt),
    Revents(Vec<u16>),
    /// A signal set.
    SigSet(u64),
    /// An ioctl's return value and what it writes through its pointer.
    Ioctl {
        value: i32,
        data: Vec<u8>,
    },
    /// The next handler to run: `(signal, mask to restore afterwards)`.
    SigDeliver(Option<(i32, u64)>),
    ITimer(crate::timer::ITimerVal),
}

/// A socket option's value; errors stay typed so the runtime converts them.
#[derive(Debug, PartialEq, Eq)]
pub enum SockOpt {
    Int(i32),
    Error(Option<Errno>),
    Cred { pid: Pid, uid: u32, gid: u32 },
}

/// The result of one attempt at a call.
#[derive(Debug)]
pub enum Outcome {
    Ready(KResult<Ret>),
    /// Retry after any of these queues is notified (or the call's deadline).
    Block(Vec<WaitKey>),
}

impl From<KResult<Ret>> for Outcome {
    fn from(r: KResult<Ret>) -> Outcome {
        Outcome::Ready(r)
    }
}

/// Shorthand for handlers that never block.
pub(crate) fn ready<T>(r: KResult<T>, f: impl FnOnce(T) -> Ret) -> Outcome {
    Outcome::Ready(r.map(f))
}
