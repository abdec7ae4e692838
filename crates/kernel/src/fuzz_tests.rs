//! A randomized driver over [`Syscall`] sequences (issue #9, section 5).
//!
//! proptest generates sequences of operations: kernel calls from several
//! processes (random fds, lengths, flags, paths and socket addresses) over an
//! in-memory VFS, pipes, socket pairs, AF_UNIX listeners, PTYs, signals,
//! `posix_spawn` and `waitpid`, plus what the host does (start a guest, type
//! on a terminal bridge, feed stdin, connect to a guest listener). The
//! harness serves the calls the way the runtime's service thread does
//! (`crates/runtime/src/service/`): a blocked call is parked on the wait
//! keys the kernel names; after every step the notifier is drained and
//! exactly the parked calls waiting on a notified key are retried, oldest
//! first; kernel [`Action`]s unpark killed guests and interrupt parked calls
//! for signal handlers; a guest runs its handlers (`SigNext`/`SigReturn`)
//! after a call that left a signal due; a killed guest unwinds with `Exit`.
//!
//! After every step it checks:
//! * no panic, no deadlock (a watchdog aborts with the sequence), no wakeup
//!   storm;
//! * every process's fd table matches a model of fd semantics: the same fds,
//!   each naming the open file description the model expects (new fds are
//!   the lowest free ones and new descriptions are really new; `dup`,
//!   inheritance and `SCM_RIGHTS` share one), with the same close-on-exec
//!   flag; zombies hold no fds; calls on an fd that is not open fail with
//!   `EBADF` and change nothing;
//! * every parked call is still legitimately blocked: retrying it (a
//!   spurious wakeup, which the kernel promises is harmless) blocks again
//!   and makes no progress, or else the harness missed a wakeup. Retries
//!   that Linux would not have woken either are let through: a deadline
//!   that passed, a waitpid whose child left the group, a description
//!   another process made non-blocking, a connect whose own socket or
//!   whose target name changed;
//! * a call that a signal restarts or fails has moved no data;
//! * poll and FIONREAD agree on pipes and stream sockets;
//! * at the end, with every guest killed and reaped, no process is left and
//!   no description the guests created is still alive (except those sent
//!   with `SCM_RIGHTS`, which can form cycles the kernel has no collector
//!   for).
//!
//! Guest pointers are the runtime's business (`abi::mem`): the kernel sees
//! lengths and byte vectors, and those are random here.
//!
//! The default run has a fixed seed and a modest number of cases.
//! Environment: `SIDECAR_FUZZ_CASES` (number of cases),
//! `SIDECAR_FUZZ_SECONDS` (run random cases for this long instead),
//! `SIDECAR_FUZZ_SEED` (the seed), `SIDECAR_FUZZ_VERBOSE` (print how often
//! each call succeeded or failed with each errno). `scripts/fuzz` drives the
//! long runs.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::errno::{Errno, KResult};
use crate::file::{OpenFile, SetTime, Whence};
use crate::kernel::{Action, InitSpec, Kernel, Stdio};
use crate::process::{Pid, ProcState, WaitStatus};
use crate::pty::termios::{self, Termios, Winsize};
use crate::signal::{self, Disposition, SigAction};
use crate::syscall::*;
use crate::unix::bridge::BridgeId;
use crate::vfs::Vfs;
use crate::wait::WaitKey;

// ---- the operations -------------------------------------------------------

/// An fd argument: one of the caller's open fds (the n-th, modulo how many
/// it has), the n-th of those of one kind (any if it has none), or a raw
/// number.
#[derive(Debug, Clone, Copy)]
enum Fd {
    Open(u8),
    /// The n-th highest open fd: usually among the newest.
    Last(u8),
    Of(Kind, u8),
    Raw(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Socket,
    Listener,
    Pipe,
    Tty,
    File,
    Dir,
}

const KINDS: [Kind; 6] = [
    Kind::Socket,
    Kind::Listener,
    Kind::Pipe,
    Kind::Tty,
    Kind::File,
    Kind::Dir,
];

fn kind_of(f: &OpenFile) -> Kind {
    use crate::file::FileType as T;
    match f.desc.file_type() {
        T::SocketStream | T::SocketDgram => {
            let s = f
                .desc
                .as_any()
                .downcast_ref::<crate::unix::socket::UnixSocket>();
            match s {
                Some(s) if s.is_listening() => Kind::Listener,
                _ => Kind::Socket,
            }
        }
        T::Fifo => Kind::Pipe,
        T::Directory => Kind::Dir,
        _ if f.desc.is_tty().is_some() => Kind::Tty,
        _ => Kind::File,
    }
}

/// A pid argument.
#[derive(Debug, Clone, Copy)]
enum PidSel {
    Raw(i32),
    /// The n-th process the harness knows of.
    Proc(u8),
    /// Minus the group of the n-th process.
    Group(u8),
}

/// Bytes to write.
#[derive(Clone)]
enum Data {
    Fill(usize, u8),
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Data::Fill(n, b) => write!(f, "Fill({n}, {b:#x})"),
            Data::Bytes(v) => write!(f, "Bytes({:?})", String::from_utf8_lossy(v)),
        }
    }
}

impl Data {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Data::Fill(n, b) => vec![*b; *n],
            Data::Bytes(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone)]
enum SpawnOp {
    Close(Fd),
    Dup2(Fd, i32),
    Open(i32, u8, u32),
    Chdir(u8),
}

#[derive(Debug, Clone)]
enum Call {
    Read {
        fd: Fd,
        len: usize,
    },
    Write {
        fd: Fd,
        data: Data,
    },
    Pread {
        fd: Fd,
        len: usize,
        off: u64,
    },
    Pwrite {
        fd: Fd,
        data: Data,
        off: u64,
    },
    Seek {
        fd: Fd,
        off: i64,
        whence: u8,
    },
    Close(Fd),
    Dup(Fd),
    Dup3 {
        old: Fd,
        new: Fd,
        flags: u32,
    },
    Fcntl {
        fd: Fd,
        cmd: i32,
        arg: i32,
    },
    Renumber {
        from: Fd,
        to: Fd,
    },
    /// FdStat, FdSetStatus, FileStat, SetSize, SetTimes, Allocate, Advise,
    /// Prestat, Readdir, Sync.
    FdMisc {
        fd: Fd,
        what: u8,
        n: u64,
    },
    Open {
        dirfd: Fd,
        path: u8,
        oflag: u32,
        cloexec: bool,
        noctty: bool,
    },
    /// Mkdir, Unlink, Rmdir, Rename, Symlink, Link, Stat, Readlink,
    /// SetTimes, ResolveProgram.
    PathOp {
        what: u8,
        dirfd: Fd,
        a: u8,
        b: u8,
    },
    Pipe2 {
        flags: u32,
    },
    Socket {
        ty: i32,
    },
    SocketPair {
        ty: i32,
    },
    Bind {
        fd: Fd,
        addr: u8,
    },
    Listen {
        fd: Fd,
        backlog: i32,
    },
    Connect {
        fd: Fd,
        addr: u8,
    },
    Accept {
        fd: Fd,
        flags: u32,
    },
    Send {
        fd: Fd,
        data: Data,
        fds: Vec<Fd>,
        flags: u32,
        addr: Option<u8>,
    },
    Recv {
        fd: Fd,
        len: usize,
        flags: u32,
        fds_cap: usize,
    },
    Shutdown {
        fd: Fd,
        how: i32,
    },
    /// SockName, GetSockOpt, SetSockOpt.
    SockOpt {
        fd: Fd,
        what: u8,
        val: i32,
    },
    PollFds {
        fds: Vec<(Fd, u16)>,
        deadline: u8,
    },
    Poll {
        subs: Vec<(bool, Fd)>,
        clock: u8,
    },
    Ioctl {
        fd: Fd,
        req: u8,
        arg: i32,
    },
    Fork,
    Spawn {
        actions: Vec<SpawnOp>,
        group: u8,
        setsid: bool,
        sigmask: Option<u64>,
        sigdefault: u64,
        cwd: u8,
    },
    Wait {
        pid: PidSel,
        options: u32,
    },
    Kill {
        pid: PidSel,
        sig: i32,
    },
    SigAction {
        sig: i32,
        disp: u8,
        flags: u32,
        mask: u64,
    },
    SigProcMask {
        how: i32,
        set: u64,
    },
    SigSuspend(Option<u64>),
    SetPgid {
        pid: PidSel,
        pgid: PidSel,
    },
    /// GetPpid, SigPending, InitialCwd, SetSid, StopPoint, GetPgid, GetSid.
    Misc(u8),
    /// `post`: sent as a `Msg::Post` (no reply), as `setitimer(.., NULL)`.
    ITimer {
        value_us: u64,
        interval_us: u64,
        get: bool,
        post: bool,
    },
    Exit(i32),
    /// socket, bind and (a stream) listen, as one step of the guest.
    Listener {
        addr: u8,
        dgram: bool,
        backlog: i32,
    },
    /// socket and connect, as one step of the guest.
    Dial {
        addr: u8,
        dgram: bool,
        nonblock: bool,
    },
}

#[derive(Debug, Clone)]
enum Op {
    /// A call by the n-th guest that can make one (not blocked, not gone).
    Call(u8, Call),
    /// The VM starts a guest (stdin from the host, or on a new terminal).
    Start {
        stdin: bool,
        tty: bool,
    },
    HostInput(u8, Data),
    HostEof(u8),
    HostAck(u8),
    HostClose(u8),
    HostResize(u8, u16),
    /// The host connects to a guest listener (`expose`).
    Expose(u8),
    Stdin(Option<Data>),
    KillAll(i32),
}

const PATHS: &[&str] = &[
    "/tmp/a",
    "/tmp/b",
    "/tmp/d",
    "/tmp/d/f",
    "/tmp/d/e",
    "/tmp/s",
    "/tmp/d/s",
    "/tmp/l",
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/ptmx",
    "/dev/pts/0",
    "/dev/pts/1",
    "/dev/pts/2",
    "/",
    "/tmp",
    "/dev",
    "x",
    "d/f",
    "../tmp/a",
    "/tmp/d/../a",
    "/tmp/nope/x",
    "/tmp/a/x",
    "",
    "/tmp/l/f",
    "/dev/pts",
    "/dev/urandom",
    "/a",
];

fn path(i: u8) -> String {
    PATHS[i as usize % PATHS.len()].to_owned()
}

fn addr(i: u8) -> Vec<u8> {
    let mut v = 1u16.to_le_bytes().to_vec();
    match i % 11 {
        0 => v.extend_from_slice(b"/tmp/s\0"),
        1 => v.extend_from_slice(b"/tmp/d/s"),
        2 => v.extend_from_slice(b"s\0"),
        3 => v.extend_from_slice(b"\0x"),
        4 => v.extend_from_slice(b"\0y"),
        5 => {}
        6 => v = vec![2, 0, b'a'],
        7 => v = vec![1],
        8 => v.extend_from_slice(b"/tmp/a"),
        9 => v.extend_from_slice(b"/dev/null"),
        _ => v.extend_from_slice(&[b'z'; 108]),
    }
    v
}

/// Paths the host may `expose`.
fn expose_path(i: u8) -> &'static str {
    ["/tmp/s", "/tmp/d/s", "/s", "/tmp/a"][i as usize % 4]
}

const SIGNALS: &[i32] = &[
    0,
    signal::SIGHUP,
    signal::SIGINT,
    signal::SIGQUIT,
    signal::SIGKILL,
    10, // SIGUSR1
    12, // SIGUSR2
    signal::SIGPIPE,
    signal::SIGALRM,
    signal::SIGTERM,
    signal::SIGCHLD,
    signal::SIGCONT,
    signal::SIGSTOP,
    signal::SIGTSTP,
    signal::SIGTTIN,
    signal::SIGTTOU,
    signal::SIGWINCH,
    64,
    65,
    -1,
];

/// Signals a handler may be installed for (fatal ones get caught too).
const CATCHABLE: &[i32] = &[
    signal::SIGHUP,
    signal::SIGINT,
    10,
    12,
    signal::SIGPIPE,
    signal::SIGALRM,
    signal::SIGTERM,
    signal::SIGCHLD,
    signal::SIGCONT,
    signal::SIGTSTP,
    signal::SIGTTIN,
    signal::SIGTTOU,
    signal::SIGWINCH,
    signal::SIGKILL,
    0,
];

// ---- strategies ------------------------------------------------------------

fn fd() -> impl Strategy<Value = Fd> {
    prop_oneof![
        4 => any::<u8>().prop_map(Fd::Open),
        4 => (0..3u8).prop_map(Fd::Last),
        4 => (prop::sample::select(KINDS.to_vec()), any::<u8>()).prop_map(|(k, i)| Fd::Of(k, i)),
        1 => prop_oneof![Just(-1), 0..12i32, Just(1023), Just(1024), Just(i32::MAX)]
            .prop_map(Fd::Raw),
    ]
}

/// Mostly an fd of `kind`.
fn fd_of(kind: Kind) -> impl Strategy<Value = Fd> {
    prop_oneof![
        6 => any::<u8>().prop_map(move |i| Fd::Of(kind, i)),
        1 => fd(),
    ]
}

/// Mostly the root preopen.
fn dirfd() -> impl Strategy<Value = Fd> {
    prop_oneof![
        6 => Just(Fd::Raw(3)),
        2 => fd_of(Kind::Dir),
        1 => fd(),
    ]
}

fn pid_sel() -> impl Strategy<Value = PidSel> {
    prop_oneof![
        4 => any::<u8>().prop_map(PidSel::Proc),
        1 => any::<u8>().prop_map(PidSel::Group),
        1 => prop::sample::select(vec![-1, 0, 999, i32::MIN]).prop_map(PidSel::Raw),
    ]
}

fn len() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0..=16usize,
        2 => prop::sample::select(vec![
            4095usize, 4096, 4097, 65535, 65536, 65537, 212_991, 212_992, 212_993
        ]),
        2 => 17..70_000usize,
        1 => 70_000..300_000usize,
    ]
}

fn read_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        20 => len(),
        1 => prop::sample::select(vec![1usize << 30, usize::MAX]),
    ]
}

/// Bytes a terminal reacts to, and some that are plain.
const INTERESTING: &[u8] = b"ab \n\r\x03\x1a\x1c\x04\x7f\x15\x17\x12\x16\x13\x11\x00\xff\x1b";

fn data() -> impl Strategy<Value = Data> {
    prop_oneof![
        3 => (len(), any::<u8>()).prop_map(|(n, b)| Data::Fill(n, b)),
        2 => prop::collection::vec(prop::sample::select(INTERESTING.to_vec()), 0..24)
            .prop_map(Data::Bytes),
    ]
}

fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..10u64,
        1 => prop::sample::select(vec![
            4095u64,
            4096,
            65536,
            1 << 20,
            1 << 40,
            i64::MAX as u64,
            u64::MAX
        ]),
    ]
}

fn oflag() -> impl Strategy<Value = u32> {
    use oflag::*;
    (
        0..4u32,
        prop::bool::weighted(0.3),
        prop::sample::subsequence(
            vec![
                O_CREAT,
                O_EXCL,
                O_TRUNC,
                O_APPEND,
                O_NONBLOCK,
                O_DIRECTORY,
                O_NOFOLLOW,
                O_NOCTTY,
            ],
            0..4,
        ),
    )
        .prop_map(|(acc, creat, bits)| {
            let acc = if creat { acc | O_CREAT } else { acc };
            bits.into_iter().fold(acc, |a, b| a | b)
        })
}

fn sock_ty() -> impl Strategy<Value = i32> {
    (
        prop_oneof![4 => 1..3i32, 1 => Just(5)],
        prop::sample::subsequence(
            vec![oflag::O_NONBLOCK as i32, oflag::O_CLOEXEC as i32],
            0..=2,
        ),
    )
        .prop_map(|(t, bits)| bits.into_iter().fold(t, |a, b| a | b))
}

fn msg_flags() -> impl Strategy<Value = u32> {
    prop::sample::subsequence(vec![2u32, 0x20, 0x40, 0x100, 0x4000, 0x4000_0000], 0..3)
        .prop_map(|bits| bits.into_iter().fold(0, |a, b| a | b))
}

fn sigset() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => Just(0u64),
        2 => prop::sample::select(CATCHABLE.to_vec())
            .prop_map(|s| if s > 0 { signal::bit(s) } else { 0 }),
        1 => any::<u64>(),
    ]
}

fn spawn_op() -> impl Strategy<Value = SpawnOp> {
    prop_oneof![
        fd().prop_map(SpawnOp::Close),
        (fd(), prop_oneof![0..8i32, Just(-1), Just(1024)]).prop_map(|(a, b)| SpawnOp::Dup2(a, b)),
        (0..8i32, any::<u8>(), oflag()).prop_map(|(n, p, o)| SpawnOp::Open(n, p, o)),
        any::<u8>().prop_map(SpawnOp::Chdir),
    ]
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        10 => (fd(), read_len()).prop_map(|(fd, len)| Call::Read { fd, len }),
        10 => (fd(), data()).prop_map(|(fd, data)| Call::Write { fd, data }),
        1 => (fd_of(Kind::File), read_len(), offset()).prop_map(|(fd, len, off)| Call::Pread { fd, len, off }),
        1 => (fd_of(Kind::File), data(), offset()).prop_map(|(fd, data, off)| Call::Pwrite { fd, data, off }),
        1 => (fd(), prop_oneof![-5..5i64, Just(i64::MIN), Just(i64::MAX), Just(1 << 40)], 0..4u8)
            .prop_map(|(fd, off, whence)| Call::Seek { fd, off, whence }),
        6 => fd().prop_map(Call::Close),
        3 => fd().prop_map(Call::Dup),
        2 => (fd(), fd(), prop_oneof![Just(0u32), Just(oflag::O_CLOEXEC), Just(1)])
            .prop_map(|(old, new, flags)| Call::Dup3 { old, new, flags }),
        3 => (
            fd(),
            prop::sample::select(vec![0, 1, 2, 3, 4, 1030, 99]),
            prop_oneof![0..12i32, Just(oflag::O_NONBLOCK as i32), Just(-1), Just(1024)],
        )
            .prop_map(|(fd, cmd, arg)| Call::Fcntl { fd, cmd, arg }),
        1 => (fd(), fd()).prop_map(|(from, to)| Call::Renumber { from, to }),
        3 => (fd_of(Kind::File), 0..10u8, offset()).prop_map(|(fd, what, n)| Call::FdMisc { fd, what, n }),
        10 => (dirfd(), any::<u8>(), oflag(), any::<bool>(), any::<bool>()).prop_map(
            |(dirfd, path, oflag, cloexec, noctty)| Call::Open {
                dirfd,
                path,
                oflag,
                cloexec,
                noctty
            }
        ),
        4 => (0..10u8, dirfd(), any::<u8>(), any::<u8>())
            .prop_map(|(what, dirfd, a, b)| Call::PathOp { what, dirfd, a, b }),
        4 => prop_oneof![
            Just(0u32),
            Just(oflag::O_NONBLOCK),
            Just(oflag::O_CLOEXEC),
            Just(oflag::O_APPEND)
        ]
        .prop_map(|flags| Call::Pipe2 { flags }),
        3 => sock_ty().prop_map(|ty| Call::Socket { ty }),
        4 => sock_ty().prop_map(|ty| Call::SocketPair { ty }),
        3 => (fd_of(Kind::Socket), any::<u8>()).prop_map(|(fd, addr)| Call::Bind { fd, addr }),
        2 => (fd_of(Kind::Socket), prop_oneof![0..3i32, Just(-1), Just(100_000)])
            .prop_map(|(fd, backlog)| Call::Listen { fd, backlog }),
        3 => (fd_of(Kind::Socket), any::<u8>()).prop_map(|(fd, addr)| Call::Connect { fd, addr }),
        3 => (fd_of(Kind::Listener), prop_oneof![Just(0u32), Just(oflag::O_NONBLOCK), Just(oflag::O_CLOEXEC), Just(1)])
            .prop_map(|(fd, flags)| Call::Accept { fd, flags }),
        6 => (
            fd_of(Kind::Socket),
            data(),
            prop::collection::vec(fd(), 0..3),
            msg_flags(),
            prop::option::weighted(0.2, any::<u8>())
        )
            .prop_map(|(fd, data, fds, flags, addr)| Call::Send {
                fd,
                data,
                fds,
                flags,
                addr
            }),
        6 => (fd_of(Kind::Socket), read_len(), msg_flags(), 0..3usize).prop_map(|(fd, len, flags, fds_cap)| {
            Call::Recv {
                fd,
                len,
                flags,
                fds_cap,
            }
        }),
        2 => (fd_of(Kind::Socket), -1..4i32).prop_map(|(fd, how)| Call::Shutdown { fd, how }),
        2 => (fd_of(Kind::Socket), 0..14u8, prop_oneof![Just(0), Just(1), Just(5000), Just(-1)])
            .prop_map(|(fd, what, val)| Call::SockOpt { fd, what, val }),
        3 => (
            prop::collection::vec((fd(), prop::sample::select(vec![1u16, 4, 5, 0x2000, 0xffff])), 0..4),
            0..3u8
        )
            .prop_map(|(fds, deadline)| Call::PollFds { fds, deadline }),
        2 => (prop::collection::vec((any::<bool>(), fd()), 0..3), 0..3u8)
            .prop_map(|(subs, clock)| Call::Poll { subs, clock }),
        4 => (fd_of(Kind::Tty), any::<u8>(), prop_oneof![0..4i32, Just(-1)])
            .prop_map(|(fd, req, arg)| Call::Ioctl { fd, req, arg }),
        4 => Just(Call::Fork),
        12 => (
            prop::collection::vec(spawn_op(), 0..4),
            any::<u8>(),
            prop::bool::weighted(0.15),
            prop::option::weighted(0.2, sigset()),
            sigset(),
            any::<u8>(),
        )
            .prop_map(|(actions, group, setsid, sigmask, sigdefault, cwd)| Call::Spawn {
                actions,
                group,
                setsid,
                sigmask,
                sigdefault,
                cwd
            }),
        3 => (pid_sel(), prop::sample::select(vec![0u32, 1, 2, 8, 10, 11]))
            .prop_map(|(pid, options)| Call::Wait { pid, options }),
        3 => (
            pid_sel(),
            prop_oneof![
                3 => prop::sample::select(vec![0, 10, 12, signal::SIGCHLD, signal::SIGCONT, signal::SIGWINCH]),
                1 => prop::sample::select(SIGNALS.to_vec()),
            ]
        )
            .prop_map(|(pid, sig)| Call::Kill { pid, sig }),
        6 => (
            prop::sample::select(CATCHABLE.to_vec()),
            prop_oneof![1 => Just(0u8), 1 => Just(1u8), 3 => Just(2u8)],
            prop::sample::subsequence(
                vec![
                    signal::SA_RESTART,
                    signal::SA_NODEFER,
                    signal::SA_RESETHAND,
                    signal::SA_NOCLDSTOP
                ],
                0..3
            )
            .prop_map(|b| b.into_iter().fold(0, |a, x| a | x)),
            sigset()
        )
            .prop_map(|(sig, disp, flags, mask)| Call::SigAction {
                sig,
                disp,
                flags,
                mask
            }),
        2 => (0..4i32, sigset()).prop_map(|(how, set)| Call::SigProcMask { how, set }),
        1 => prop::option::of(sigset()).prop_map(Call::SigSuspend),
        1 => (pid_sel(), pid_sel()).prop_map(|(pid, pgid)| Call::SetPgid { pid, pgid }),
        2 => (0..7u8).prop_map(Call::Misc),
        1 => (
            prop_oneof![
                2 => Just(0u64),
                1 => Just(1),
                1 => Just(1000),
                2 => Just(3_600_000_000)
            ],
            prop::sample::select(vec![0u64, 1, 1000]),
            prop::bool::weighted(0.2),
            any::<bool>()
        )
            .prop_map(|(value_us, interval_us, get, post)| Call::ITimer {
                value_us,
                interval_us,
                get,
                post
            }),
        1 => prop_oneof![0..3i32, Just(255), Just(-1)].prop_map(Call::Exit),
        3 => (0..3u8, prop::bool::weighted(0.2), 0..3i32).prop_map(|(addr, dgram, backlog)| {
            Call::Listener {
                addr,
                dgram,
                backlog,
            }
        }),
        4 => (0..3u8, prop::bool::weighted(0.2), prop::bool::weighted(0.2))
            .prop_map(|(addr, dgram, nonblock)| Call::Dial {
                addr,
                dgram,
                nonblock
            }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        60 => (any::<u8>(), call()).prop_map(|(p, c)| Op::Call(p, c)),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(stdin, tty)| Op::Start { stdin, tty }),
        2 => (any::<u8>(), data()).prop_map(|(b, d)| Op::HostInput(b, d)),
        1 => any::<u8>().prop_map(Op::HostEof),
        3 => any::<u8>().prop_map(Op::HostAck),
        1 => any::<u8>().prop_map(Op::HostClose),
        1 => (any::<u8>(), 0..3u16).prop_map(|(b, r)| Op::HostResize(b, r)),
        1 => any::<u8>().prop_map(Op::Expose),
        1 => prop::option::weighted(0.8, data()).prop_map(Op::Stdin),
        1 => prop_oneof![
            3 => prop::sample::select(vec![signal::SIGCONT, signal::SIGWINCH, 10]),
            1 => prop::sample::select(vec![signal::SIGINT, signal::SIGTERM]),
        ]
        .prop_map(Op::KillAll),
    ]
}

const MAX_OPS: usize = 150;

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..=MAX_OPS)
}

// ---- the harness -------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Running,
    /// Killed: the guest unwinds and reports its exit.
    Dying(i32),
    Exited,
}

#[derive(Debug, Clone)]
struct Entry {
    file: Weak<OpenFile>,
    cloexec: bool,
}

#[derive(Debug)]
struct Guest {
    life: Life,
    fds: BTreeMap<i32, Entry>,
    parked: Option<u64>,
    /// A call a signal interrupted under SA_RESTART: made again once the
    /// handlers have run.
    restart: Option<Syscall>,
}

#[derive(Debug)]
struct Parked {
    pid: Pid,
    call: Syscall,
    keys: Vec<WaitKey>,
    deadline: Option<Instant>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    cases: u64,
    steps: u64,
    calls: u64,
    blocks: u64,
    wakeups: u64,
    interrupts: u64,
    restarts: u64,
    spurious: u64,
    spawned: u64,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.cases += o.cases;
        self.steps += o.steps;
        self.calls += o.calls;
        self.blocks += o.blocks;
        self.wakeups += o.wakeups;
        self.interrupts += o.interrupts;
        self.restarts += o.restarts;
        self.spurious += o.spurious;
        self.spawned += o.spawned;
    }
}

/// Most guests alive at once; further spawns are skipped.
const MAX_GUESTS: usize = 16;

struct Sim {
    k: Kernel,
    guests: BTreeMap<Pid, Guest>,
    /// Every guest in creation order (what `Op::Call` and `PidSel` index).
    order: Vec<Pid>,
    parked: BTreeMap<u64, Parked>,
    by_key: HashMap<WaitKey, BTreeSet<u64>>,
    next_id: u64,
    bridges: Vec<BridgeId>,
    unacked: BTreeSet<BridgeId>,
    /// Every description seen, by address (the weak reference keeps the
    /// address from being reused).
    known: HashMap<*const OpenFile, Weak<OpenFile>>,
    /// Descriptions the guests created.
    created: Vec<Weak<OpenFile>>,
    /// Descriptions passed with SCM_RIGHTS.
    sent: HashSet<*const OpenFile>,
    stats: Stats,
    depth: u32,
    bad: Option<String>,
}

macro_rules! ensure {
    ($sim:expr, $cond:expr, $($fmt:tt)+) => {
        if !$cond {
            $sim.fail(format!($($fmt)+));
        }
    };
}

fn progress(call: &Syscall) -> usize {
    match call {
        Syscall::Write { done, .. } | Syscall::SendMsg { done, .. } => *done,
        Syscall::RecvMsg { acc: Some(r), .. } => r.data.len() + r.fds.len(),
        _ => 0,
    }
}

/// Whether poll and FIONREAD disagree about a pipe's or a stream socket's
/// unread bytes.
fn poll_disagrees(f: &OpenFile) -> Option<String> {
    use crate::file::poll::*;
    use crate::file::FileType;
    let reader = match f.desc.file_type() {
        FileType::SocketStream => true,
        FileType::Fifo => f.desc.as_any().is::<crate::pipe::PipeReader>(),
        _ => false,
    };
    let n = f.desc.bytes_readable().ok().filter(|_| reader)?;
    let m = f.desc.poll();
    let eof = m & (POLLHUP | POLLRDHUP) != 0;
    ((n > 0) != (m & POLLIN != 0) && !(n == 0 && eof))
        .then(|| format!("{n} bytes readable but poll gives {m:#x}"))
}

/// Counts an event for `SIDECAR_FUZZ_VERBOSE`.
fn count(what: impl FnOnce() -> String) {
    if VERBOSE.with(Cell::get) {
        HISTOGRAM.with(|h| *h.borrow_mut().entry(what()).or_default() += 1);
    }
}

fn call_name(call: &Syscall) -> String {
    format!("{call:?}")
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect()
}

/// The fd a call may block on.
fn call_fd(call: &Syscall) -> Option<i32> {
    match call {
        Syscall::Read { fd, .. }
        | Syscall::Write { fd, .. }
        | Syscall::Accept { fd, .. }
        | Syscall::Connect { fd, .. }
        | Syscall::SendMsg { fd, .. }
        | Syscall::RecvMsg { fd, .. } => Some(*fd),
        _ => None,
    }
}

/// The call as the guest makes it again after a handler (SA_RESTART).
fn reset(call: &mut Syscall) {
    match call {
        Syscall::Write { done, .. } | Syscall::SendMsg { done, .. } => *done = 0,
        Syscall::RecvMsg { acc, .. } => *acc = None,
        Syscall::Read { timer, parked, .. } => {
            *timer = None;
            *parked = false;
        }
        _ => {}
    }
}

fn lowest_free<T>(fds: &BTreeMap<i32, T>, min: i32) -> i32 {
    (min.max(0)..).find(|fd| !fds.contains_key(fd)).unwrap()
}

fn termios_for(arg: i32) -> Termios {
    let mut t = Termios::default();
    match arg {
        0 => {}
        1 => {
            t.c_lflag &= !(termios::ICANON | termios::ECHO);
            t.c_cc[termios::VMIN] = 1;
            t.c_cc[termios::VTIME] = 0;
        }
        2 => {
            t.c_lflag &= !(termios::ICANON | termios::ISIG);
            t.c_cc[termios::VMIN] = 0;
            t.c_cc[termios::VTIME] = 1;
        }
        _ => {
            t.c_lflag |= termios::TOSTOP;
            t.c_iflag |= termios::IXON;
        }
    }
    t
}

impl Sim {
    fn new() -> Sim {
        let mut vfs = Vfs::new();
        vfs.mount_mem("/").unwrap();
        vfs.mount_mem_with_limit("/tmp", 1 << 20).unwrap();
        vfs.mount_dev("/dev").unwrap();
        vfs.mkdir("/", "/tmp/d", 0o777).unwrap();
        for f in ["/tmp/a", "/tmp/d/f"] {
            let flags = crate::vfs::OpenFlags {
                write: true,
                create: true,
                ..Default::default()
            };
            let file = vfs.open("/", f, flags, 0o644).unwrap();
            file.write(b"some bytes\n", false).unwrap();
        }
        let mut k = Kernel::new(vfs);
        // Low enough that spawns and opens run into them.
        k.set_limits(crate::kernel::Limits {
            processes: 10,
            files: 3,
        });
        let mut sim = Sim {
            k,
            guests: BTreeMap::new(),
            order: Vec::new(),
            parked: BTreeMap::new(),
            by_key: HashMap::new(),
            next_id: 0,
            bridges: Vec::new(),
            unacked: BTreeSet::new(),
            known: HashMap::new(),
            created: Vec::new(),
            sent: HashSet::new(),
            stats: Stats::default(),
            depth: 0,
            bad: None,
        };
        sim.start(false, false);
        sim.start(false, true);
        sim.settle();
        sim
    }

    fn fail(&mut self, msg: String) {
        if self.bad.is_none() {
            self.bad = Some(msg);
        }
    }

    fn guest(&mut self, pid: Pid) -> &mut Guest {
        self.guests.get_mut(&pid).expect("known guest")
    }

    // ---- host side --------------------------------------------------------

    fn start(&mut self, stdin: bool, tty: bool) {
        let ws = Winsize {
            rows: 24,
            cols: 80,
            xpixel: 0,
            ypixel: 0,
        };
        let out = || if tty { Stdio::Tty(ws) } else { Stdio::Null };
        let input = if stdin { Stdio::Inherit } else { out() };
        let spec = InitSpec {
            name: "init".into(),
            cwd: "/".into(),
            stdio: [input, out(), out()],
        };
        match self.k.create_process(spec) {
            Ok((pid, bridge)) => {
                self.bridges.extend(bridge);
                self.adopt(pid, BTreeMap::new());
            }
            // The VM's process or file limit.
            Err(Errno::EAGAIN | Errno::ENFILE) => {}
            Err(e) => self.fail(format!("create_process failed: {e:?}")),
        }
    }

    /// Starts modelling `pid`, learning the descriptions of its fds from the
    /// kernel except those in `expect`.
    fn adopt(&mut self, pid: Pid, expect: BTreeMap<i32, Entry>) {
        let mut fds = expect;
        if let Some(p) = self.k.process(pid) {
            for (fd, e) in p.fds().iter() {
                fds.entry(fd).or_insert_with(|| Entry {
                    file: Arc::downgrade(&e.file),
                    cloexec: e.cloexec,
                });
                self.known
                    .entry(Arc::as_ptr(&e.file))
                    .or_insert_with(|| Arc::downgrade(&e.file));
            }
        }
        self.guests.insert(
            pid,
            Guest {
                life: Life::Running,
                fds,
                parked: None,
                restart: None,
            },
        );
        self.order.push(pid);
    }

    fn bridge(&self, i: u8) -> Option<BridgeId> {
        (!self.bridges.is_empty()).then(|| self.bridges[i as usize % self.bridges.len()])
    }

    // ---- steps ----------------------------------------------------------------

    fn step(&mut self, op: &Op) {
        self.stats.steps += 1;
        match op {
            Op::Call(i, c) => {
                let ready: Vec<Pid> = self
                    .order
                    .iter()
                    .copied()
                    .filter(|p| {
                        let g = &self.guests[p];
                        g.life != Life::Exited && g.parked.is_none()
                    })
                    .collect();
                if ready.is_empty() {
                    if self.live() < MAX_GUESTS {
                        self.start(false, i % 3 == 0);
                    }
                } else {
                    let pid = ready[*i as usize % ready.len()];
                    match self.guests[&pid].life {
                        Life::Dying(sig) => self.attempt(
                            pid,
                            Syscall::Exit {
                                status: WaitStatus::signaled(sig),
                            },
                        ),
                        _ => match c {
                            Call::Listener {
                                addr: a,
                                dgram,
                                backlog,
                            } => {
                                let ty = if *dgram { 2 } else { 1 };
                                let mut then = vec![Syscall::Bind {
                                    fd: 0,
                                    addr: addr(*a),
                                }];
                                if !dgram {
                                    then.push(Syscall::Listen {
                                        fd: 0,
                                        backlog: *backlog,
                                    });
                                }
                                self.script(pid, ty, then);
                            }
                            Call::Dial {
                                addr: a,
                                dgram,
                                nonblock,
                            } => {
                                let mut ty = if *dgram { 2 } else { 1 };
                                if *nonblock {
                                    ty |= oflag::O_NONBLOCK as i32;
                                }
                                let then = vec![Syscall::Connect {
                                    fd: 0,
                                    addr: addr(*a),
                                }];
                                self.script(pid, ty, then);
                            }
                            _ => {
                                if let Some(call) = self.build(pid, c) {
                                    self.attempt(pid, call);
                                }
                            }
                        },
                    }
                }
            }
            Op::Start { stdin, tty } => {
                if self.live() < MAX_GUESTS {
                    self.start(*stdin, *tty);
                }
            }
            Op::HostInput(b, d) => {
                if let Some(id) = self.bridge(*b) {
                    self.k.bridge_from_host(id, Some(d.bytes()));
                }
            }
            Op::HostEof(b) => {
                if let Some(id) = self.bridge(*b) {
                    self.k.bridge_from_host(id, None);
                }
            }
            Op::HostAck(b) => {
                if let Some(id) = self.bridge(*b) {
                    if self.unacked.remove(&id) {
                        self.k.bridge_ack(id);
                    }
                }
            }
            Op::HostClose(b) => {
                if let Some(id) = self.bridge(*b) {
                    self.bridges.retain(|x| *x != id);
                    self.unacked.remove(&id);
                    self.k.bridge_close(id);
                }
            }
            Op::HostResize(b, r) => {
                if let Some(id) = self.bridge(*b) {
                    let ws = Winsize {
                        rows: 10 + r,
                        cols: 40,
                        xpixel: 0,
                        ypixel: 0,
                    };
                    self.k.bridge_resize(id, ws);
                }
            }
            Op::Expose(a) => {
                if let Ok(id) = self.k.bridge_connect(expose_path(*a)) {
                    self.bridges.push(id);
                }
            }
            Op::Stdin(d) => self.k.host_stdin(d.as_ref().map(Data::bytes)),
            Op::KillAll(sig) => {
                for pid in self.k.live_pids() {
                    self.k.send_signal(pid, *sig);
                }
            }
        }
        // What the service thread does after every message.
        self.settle();
        self.expire();
        self.settle();
        self.check_parked();
        self.settle();
        self.check_tables();
    }

    fn live(&self) -> usize {
        self.guests
            .values()
            .filter(|g| g.life != Life::Exited)
            .count()
    }

    fn fd(&self, pid: Pid, sel: Fd) -> i32 {
        match sel {
            Fd::Raw(fd) => fd,
            Fd::Open(i) => {
                let fds = &self.guests[&pid].fds;
                if fds.is_empty() {
                    return 0;
                }
                *fds.keys().nth(i as usize % fds.len()).unwrap()
            }
            Fd::Last(i) => {
                let fds = &self.guests[&pid].fds;
                let n = (i as usize).min(fds.len().saturating_sub(1));
                fds.keys().rev().nth(n).copied().unwrap_or(0)
            }
            Fd::Of(kind, i) => {
                let Some(p) = self.k.process(pid) else {
                    return 0;
                };
                let of: Vec<i32> = p
                    .fds()
                    .iter()
                    .filter(|(_, e)| kind_of(&e.file) == kind)
                    .map(|(fd, _)| fd)
                    .collect();
                if of.is_empty() {
                    return self.fd(pid, Fd::Open(i));
                }
                of[i as usize % of.len()]
            }
        }
    }

    fn pid(&self, sel: PidSel) -> Pid {
        match sel {
            PidSel::Raw(p) => p,
            PidSel::Proc(i) => self.order[i as usize % self.order.len()],
            PidSel::Group(i) => {
                let pid = self.order[i as usize % self.order.len()];
                -self.k.process(pid).map_or(999, |p| p.pgid())
            }
        }
    }

    /// Makes a socket of type `ty`, then the calls `then` on it while the
    /// guest goes on running (their `fd` is replaced).
    fn script(&mut self, pid: Pid, ty: i32, then: Vec<Syscall>) {
        let before: BTreeSet<i32> = self.guests[&pid].fds.keys().copied().collect();
        let socket = Syscall::Socket {
            domain: 1,
            ty,
            protocol: 0,
        };
        self.attempt(pid, socket);
        let g = &self.guests[&pid];
        let Some(fd) = g.fds.keys().copied().find(|fd| !before.contains(fd)) else {
            return;
        };
        for mut call in then {
            let g = &self.guests[&pid];
            if g.life != Life::Running || g.parked.is_some() {
                return;
            }
            match &mut call {
                Syscall::Bind { fd: f, .. }
                | Syscall::Listen { fd: f, .. }
                | Syscall::Connect { fd: f, .. } => *f = fd,
                _ => {}
            }
            self.attempt(pid, call);
        }
    }

    /// The kernel call a [`Call`] stands for, made by `pid`.
    fn build(&mut self, pid: Pid, c: &Call) -> Option<Syscall> {
        let fd = |s: Fd| self.fd(pid, s);
        Some(match c {
            Call::Read { fd: f, len } => Syscall::Read {
                fd: fd(*f),
                len: *len,
                timer: None,
                parked: false,
            },
            Call::Write { fd: f, data } => Syscall::Write {
                fd: fd(*f),
                data: data.bytes(),
                done: 0,
            },
            Call::Pread { fd: f, len, off } => Syscall::Pread {
                fd: fd(*f),
                len: *len,
                offset: *off,
            },
            Call::Pwrite { fd: f, data, off } => Syscall::Pwrite {
                fd: fd(*f),
                data: data.bytes(),
                offset: *off,
            },
            Call::Seek { fd: f, off, whence } => Syscall::Seek {
                fd: fd(*f),
                offset: *off,
                whence: [Whence::Set, Whence::Cur, Whence::End, Whence::Set][*whence as usize % 4],
            },
            Call::Close(f) => Syscall::Close { fd: fd(*f) },
            Call::Dup(f) => Syscall::Dup { fd: fd(*f) },
            Call::Dup3 { old, new, flags } => Syscall::Dup3 {
                old: fd(*old),
                new: fd(*new),
                flags: *flags,
            },
            Call::Fcntl { fd: f, cmd, arg } => Syscall::Fcntl {
                fd: fd(*f),
                cmd: *cmd,
                arg: *arg,
            },
            Call::Renumber { from, to } => Syscall::Renumber {
                from: fd(*from),
                to: fd(*to),
            },
            Call::FdMisc { fd: f, what, n } => {
                let fd = fd(*f);
                match what {
                    0 => Syscall::FdStat { fd },
                    1 => Syscall::FdSetStatus {
                        fd,
                        status: *n as u32 & 0x1f,
                    },
                    2 => Syscall::FileStat { fd },
                    3 => Syscall::SetSize { fd, size: *n },
                    4 => Syscall::SetTimes {
                        fd,
                        atime: SetTime::Now,
                        mtime: SetTime::At(*n),
                    },
                    5 => Syscall::Allocate {
                        fd,
                        offset: *n,
                        len: *n / 2 + 1,
                    },
                    6 => Syscall::Advise { fd },
                    7 => Syscall::Prestat { fd },
                    8 => Syscall::Readdir { fd, cookie: *n },
                    _ => Syscall::Sync { fd },
                }
            }
            Call::Open {
                dirfd,
                path: p,
                oflag,
                cloexec,
                noctty,
            } => {
                let (flags, status) = crate::kernel::open_flags(*oflag);
                Syscall::PathOpen {
                    dirfd: fd(*dirfd),
                    path: path(*p),
                    flags,
                    status,
                    cloexec: *cloexec,
                    noctty: *noctty,
                }
            }
            Call::PathOp { what, dirfd, a, b } => {
                let dirfd = fd(*dirfd);
                let (p, q) = (path(*a), path(*b));
                match what {
                    0 => Syscall::PathMkdir { dirfd, path: p },
                    1 => Syscall::PathUnlink { dirfd, path: p },
                    2 => Syscall::PathRmdir { dirfd, path: p },
                    3 => Syscall::PathRename {
                        dirfd,
                        path: p,
                        new_dirfd: dirfd,
                        new_path: q,
                    },
                    4 => Syscall::PathSymlink {
                        target: q,
                        dirfd,
                        path: p,
                    },
                    5 => Syscall::PathLink {
                        dirfd,
                        path: p,
                        follow: a % 2 == 0,
                        new_dirfd: dirfd,
                        new_path: q,
                    },
                    6 => Syscall::PathStat {
                        dirfd,
                        path: p,
                        follow: b % 2 == 0,
                    },
                    7 => Syscall::PathReadlink { dirfd, path: p },
                    8 => Syscall::PathSetTimes {
                        dirfd,
                        path: p,
                        follow: b % 2 == 0,
                        atime: SetTime::Omit,
                        mtime: SetTime::Now,
                    },
                    _ => Syscall::ResolveProgram {
                        path: p,
                        cwd: (b % 2 == 0).then(|| "/tmp".to_owned()),
                        chdirs: vec![q],
                    },
                }
            }
            Call::Pipe2 { flags } => Syscall::Pipe2 { flags: *flags },
            Call::Socket { ty } => Syscall::Socket {
                domain: 1,
                ty: *ty,
                protocol: 0,
            },
            Call::SocketPair { ty } => Syscall::SocketPair {
                domain: 1,
                ty: *ty,
                protocol: 0,
            },
            Call::Bind { fd: f, addr: a } => Syscall::Bind {
                fd: fd(*f),
                addr: addr(*a),
            },
            Call::Listen { fd: f, backlog } => Syscall::Listen {
                fd: fd(*f),
                backlog: *backlog,
            },
            Call::Connect { fd: f, addr: a } => Syscall::Connect {
                fd: fd(*f),
                addr: addr(*a),
            },
            Call::Accept { fd: f, flags } => Syscall::Accept {
                fd: fd(*f),
                flags: *flags,
            },
            Call::Send {
                fd: f,
                data,
                fds,
                flags,
                addr: a,
            } => {
                let fds: Vec<i32> = fds.iter().map(|s| fd(*s)).collect();
                let g = &self.guests[&pid];
                let files: Vec<*const OpenFile> = fds
                    .iter()
                    .filter_map(|f| g.fds.get(f))
                    .map(|e| e.file.as_ptr())
                    .collect();
                let call = Syscall::SendMsg {
                    fd: fd(*f),
                    data: data.bytes(),
                    fds,
                    flags: *flags,
                    addr: a.map(addr),
                    done: 0,
                };
                self.sent.extend(files);
                call
            }
            Call::Recv {
                fd: f,
                len,
                flags,
                fds_cap,
            } => Syscall::RecvMsg {
                fd: fd(*f),
                len: *len,
                flags: *flags,
                fds_cap: *fds_cap,
                acc: None,
            },
            Call::Shutdown { fd: f, how } => Syscall::Shutdown {
                fd: fd(*f),
                how: *how,
            },
            Call::SockOpt { fd: f, what, val } => {
                let fd = fd(*f);
                const NAMES: [i32; 10] = [2, 3, 4, 7, 8, 17, 30, 38, 39, 99];
                match what {
                    0 | 1 => Syscall::SockName {
                        fd,
                        peer: *what == 1,
                    },
                    2 | 3 => Syscall::SetSockOpt {
                        fd,
                        level: 1,
                        name: if *what == 2 { 7 } else { 8 },
                        value: val.to_le_bytes().to_vec(),
                    },
                    w => Syscall::GetSockOpt {
                        fd,
                        level: if *val == -1 { 6 } else { 1 },
                        name: NAMES[(*w as usize - 4) % NAMES.len()],
                    },
                }
            }
            Call::PollFds { fds, deadline } => Syscall::PollFds {
                fds: fds.iter().map(|(f, ev)| (fd(*f), *ev)).collect(),
                deadline: match deadline {
                    0 => None,
                    1 => Some(Instant::now()),
                    _ => Some(Instant::now() + Duration::from_secs(3600)),
                },
            },
            Call::Poll { subs, clock } => {
                let mut subs: Vec<PollSub> = subs
                    .iter()
                    .enumerate()
                    .map(|(i, (write, f))| PollSub {
                        userdata: i as u64,
                        kind: if *write {
                            PollKind::Write(fd(*f))
                        } else {
                            PollKind::Read(fd(*f))
                        },
                    })
                    .collect();
                if *clock > 0 {
                    let after = if *clock == 1 { 0 } else { 3600 };
                    subs.push(PollSub {
                        userdata: 99,
                        kind: PollKind::Clock {
                            deadline: Instant::now() + Duration::from_secs(after),
                        },
                    });
                }
                Syscall::Poll { subs }
            }
            Call::Ioctl { fd: f, req, arg } => self.ioctl(pid, fd(*f), *req, *arg),
            Call::Spawn {
                actions,
                group,
                setsid,
                sigmask,
                sigdefault,
                cwd,
            } => {
                if self.live() >= MAX_GUESTS {
                    return None;
                }
                let actions = actions
                    .iter()
                    .map(|a| match a {
                        SpawnOp::Close(f) => SpawnAction::Close(fd(*f)),
                        SpawnOp::Dup2(f, newfd) => SpawnAction::Dup2 {
                            fd: fd(*f),
                            newfd: *newfd,
                        },
                        SpawnOp::Open(newfd, p, oflag) => SpawnAction::Open {
                            newfd: *newfd,
                            path: path(*p),
                            oflag: *oflag,
                            mode: 0o644,
                        },
                        SpawnOp::Chdir(p) => SpawnAction::Chdir(path(*p)),
                    })
                    .collect();
                let pgroup = match group % 4 {
                    0 | 1 => None,
                    2 => Some(0),
                    _ => Some(self.pid(PidSel::Group(*group)).wrapping_abs()),
                };
                Syscall::Spawn(SpawnRequest {
                    name: "child".into(),
                    actions,
                    attr: SpawnAttr {
                        pgroup,
                        setsid: *setsid,
                        cwd: match cwd % 4 {
                            0 => Some("/tmp".into()),
                            1 => Some(path(*cwd)),
                            _ => None,
                        },
                        sigdefault: *sigdefault,
                        sigmask: *sigmask,
                    },
                })
            }
            Call::Fork => Syscall::Fork,
            Call::Wait { pid: p, options } => Syscall::Wait {
                pid: self.pid(*p),
                options: *options,
            },
            Call::Kill { pid: p, sig } => Syscall::Kill {
                pid: self.pid(*p),
                sig: *sig,
            },
            Call::SigAction {
                sig,
                disp,
                flags,
                mask,
            } => Syscall::SigAction {
                sig: *sig,
                action: SigAction {
                    disposition: [
                        Disposition::Default,
                        Disposition::Ignore,
                        Disposition::Catch,
                    ][*disp as usize % 3],
                    flags: *flags,
                    mask: *mask,
                },
            },
            Call::SigProcMask { how, set } => Syscall::SigProcMask {
                how: *how,
                set: *set,
            },
            Call::SigSuspend(mask) => Syscall::SigSuspend { mask: *mask },
            Call::SetPgid { pid: p, pgid } => Syscall::SetPgid {
                pid: self.pid(*p),
                pgid: self.pid(*pgid).wrapping_abs(),
            },
            Call::Misc(w) => match w {
                0 => Syscall::GetPpid,
                1 => Syscall::SigPending,
                2 => Syscall::InitialCwd,
                3 => Syscall::SetSid,
                4 => Syscall::StopPoint,
                5 => Syscall::GetPgid { pid: 0 },
                _ => Syscall::GetSid { pid: 0 },
            },
            Call::ITimer {
                value_us,
                interval_us,
                get,
                post,
            } => {
                let call = Syscall::ITimer {
                    which: 0,
                    new: (!get).then_some(crate::timer::ITimerVal {
                        interval: Duration::from_micros(*interval_us),
                        value: Duration::from_micros(*value_us),
                    }),
                };
                if *post && !get {
                    self.k.posted(pid, call);
                    return None;
                }
                call
            }
            Call::Exit(code) => Syscall::Exit {
                status: WaitStatus::exited(*code),
            },
            Call::Listener { .. } | Call::Dial { .. } => return None,
        })
    }

    fn ioctl(&self, pid: Pid, fd: i32, req: u8, arg: i32) -> Syscall {
        let int = |v: i32| v.to_le_bytes().to_vec();
        let (request, data) = match req % 22 {
            0 => (0x541B, vec![]),       // FIONREAD
            1 => (0x5421, int(arg & 1)), // FIONBIO
            2 => (0x5401, vec![]),       // TCGETS
            3..=5 => (
                0x5402 + u32::from(req % 22 - 3),
                termios_for(arg).to_bytes().to_vec(),
            ),
            6 => (0x5413, vec![]), // TIOCGWINSZ
            7 => (
                0x5414,
                Winsize {
                    rows: 30,
                    cols: 100,
                    xpixel: 0,
                    ypixel: 0,
                }
                .to_bytes()
                .to_vec(),
            ), // TIOCSWINSZ
            8 => (0x540F, vec![]), // TIOCGPGRP
            9 => {
                // TIOCSPGRP: some guest's group, or our own.
                let g = match arg {
                    0 => self.k.process(pid).map_or(0, |p| p.pgid()),
                    -1 => -1,
                    a => self.pid(PidSel::Group(a as u8)).wrapping_abs(),
                };
                (0x5410, int(g))
            }
            10 => (0x540E, vec![]),      // TIOCSCTTY
            11 => (0x5422, vec![]),      // TIOCNOTTY
            12 => (0x5429, vec![]),      // TIOCGSID
            13 => (0x540B, vec![]),      // TCFLSH
            14 => (0x540A, vec![]),      // TCXONC
            15 => (0x5409, vec![]),      // TCSBRK
            16 => (0x5411, vec![]),      // TIOCOUTQ
            17 => (0x8004_5430, vec![]), // TIOCGPTN
            18 => (0x4004_5431, int(0)), // TIOCSPTLCK: unlock
            19 => (0x8004_5439, vec![]), // TIOCGPTLCK
            20 => (0x5402, vec![1, 2]),  // TCSETS, short data
            _ => (0x1234, vec![]),
        };
        Syscall::Ioctl {
            fd,
            request,
            arg,
            data,
        }
    }

    // ---- serving calls, as the service thread does ---------------------------------

    /// Runs one attempt of `call`; completes it or parks it.
    fn attempt(&mut self, pid: Pid, mut call: Syscall) {
        self.depth += 1;
        if self.depth > 400 {
            self.fail(format!("runaway call chain at pid {pid}: {call:?}"));
        } else {
            self.stats.calls += 1;
            match self.k.call(pid, &mut call) {
                Outcome::Ready(r) => self.complete(pid, call, r),
                Outcome::Block(keys) => {
                    self.stats.blocks += 1;
                    count(|| format!("~blocked {}", call_name(&call)));
                    let waits_on_fd = matches!(
                        call,
                        Syscall::Read { .. }
                            | Syscall::Write { .. }
                            | Syscall::Accept { .. }
                            | Syscall::Connect { .. }
                            | Syscall::SendMsg { .. }
                            | Syscall::RecvMsg { .. }
                    );
                    ensure!(
                        self,
                        !(keys.is_empty() && waits_on_fd && call.deadline().is_none()),
                        "pid {pid}: {call:?} blocks with nothing that could wake it"
                    );
                    ensure!(self, !matches!(call, Syscall::Exit { .. }), "exit blocked");
                    self.park(pid, call, keys);
                }
            }
        }
        self.depth -= 1;
    }

    fn park(&mut self, pid: Pid, call: Syscall, keys: Vec<WaitKey>) {
        let id = self.next_id;
        self.next_id += 1;
        for k in &keys {
            self.by_key.entry(*k).or_default().insert(id);
        }
        let deadline = call.deadline();
        let g = self.guest(pid);
        if g.parked.is_some() {
            self.fail(format!("pid {pid} parked twice"));
        }
        self.guest(pid).parked = Some(id);
        self.parked.insert(
            id,
            Parked {
                pid,
                call,
                keys,
                deadline,
            },
        );
    }

    fn unpark(&mut self, id: u64) -> Option<Parked> {
        let p = self.parked.remove(&id)?;
        for k in &p.keys {
            if let Some(ids) = self.by_key.get_mut(k) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
        if let Some(g) = self.guests.get_mut(&p.pid) {
            g.parked = None;
        }
        Some(p)
    }

    /// A call of `pid` finished with `r`: update the model, then let the
    /// guest go on (handlers, a restarted call).
    fn complete(&mut self, pid: Pid, call: Syscall, r: KResult<Ret>) {
        count(|| {
            let res = match &r {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("{e:?}"),
            };
            format!("{} {res}", call_name(&call))
        });
        if matches!(call, Syscall::Exit { .. }) {
            ensure!(self, r.is_ok(), "exit failed: {r:?}");
            let g = self.guest(pid);
            g.life = Life::Exited;
            g.fds.clear();
            g.restart = None;
            return;
        }
        if let Some(sig) = self.k.process(pid).and_then(|p| p.killed()) {
            if r == Err(Errno::EINTR) {
                // The runtime replies `Killed`: the guest unwinds.
                self.guest(pid).life = Life::Dying(sig);
                return;
            }
        }
        self.apply(pid, &call, &r);
        if let (Syscall::SigNext, Ok(Ret::SigDeliver(Some((_, restore))))) = (&call, &r) {
            // The handler ran; it returns.
            self.attempt(pid, Syscall::SigReturn { mask: *restore });
            return;
        }
        self.after_call(pid);
    }

    /// The guest runs on after a call: first the handlers of due signals,
    /// then a call that is to be restarted.
    fn after_call(&mut self, pid: Pid) {
        let g = &self.guests[&pid];
        if g.life != Life::Running || g.parked.is_some() {
            return;
        }
        if self.k.signal_due(pid) {
            self.attempt(pid, Syscall::SigNext);
        } else if let Some(call) = self.guest(pid).restart.take() {
            self.stats.restarts += 1;
            self.attempt(pid, call);
        }
    }

    /// The service thread's loop: apply actions, retry what was woken,
    /// until nothing changes.
    fn settle(&mut self) {
        for _ in 0..2000 {
            self.k.drain_tty_events();
            let actions = self.k.take_actions();
            let keys = self.k.notifier().drain();
            if actions.is_empty() && keys.is_empty() {
                return;
            }
            for a in actions {
                self.act(a);
            }
            if keys.is_empty() {
                continue;
            }
            self.k.on_wakeup(&keys);
            let woken: BTreeSet<u64> = keys
                .iter()
                .filter_map(|k| self.by_key.get(k))
                .flatten()
                .copied()
                .collect();
            for id in woken {
                if let Some(p) = self.unpark(id) {
                    self.stats.wakeups += 1;
                    count(|| format!("~woken {}", call_name(&p.call)));
                    self.attempt(p.pid, p.call);
                }
            }
        }
        self.fail("wakeups never settle (a retried call keeps notifying)".into());
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Terminate { pid, sig } => {
                count(|| format!("~terminated by {sig}"));
                let Some(g) = self.guests.get_mut(&pid) else {
                    self.fail(format!("terminate of unknown pid {pid}"));
                    return;
                };
                if g.life == Life::Running {
                    g.life = Life::Dying(sig);
                }
                g.restart = None;
                if let Some(id) = g.parked {
                    self.unpark(id);
                }
            }
            Action::Exited { pid, .. } => {
                let exited = self.guests.get(&pid).map(|g| g.life);
                ensure!(
                    self,
                    exited == Some(Life::Exited),
                    "Exited for pid {pid} in state {exited:?}"
                );
            }
            Action::Stop { .. } | Action::StdinCredit | Action::BridgeCredit { .. } => {}
            Action::Listening { path } => {
                ensure!(
                    self,
                    self.k.is_listening(&path),
                    "Listening for {path}, which does not listen"
                );
            }
            Action::Interrupt { pid } => {
                let Some(id) = self.guests.get(&pid).and_then(|g| g.parked) else {
                    return; // running: the handler runs after its next call
                };
                self.stats.interrupts += 1;
                let mut p = self.unpark(id).unwrap();
                match self.k.call(pid, &mut p.call) {
                    Outcome::Ready(r) => self.complete(pid, p.call, r),
                    Outcome::Block(_) => match self.k.interrupted(pid, &p.call) {
                        Some(r) => {
                            let n = progress(&p.call);
                            ensure!(
                                self,
                                n == 0 || r.is_ok(),
                                "pid {pid}: {:?} fails with {r:?} after a signal but had \
                                 already transferred {n} bytes/fds, which are lost",
                                p.call
                            );
                            self.complete(pid, p.call, r)
                        }
                        None => {
                            let n = progress(&p.call);
                            ensure!(
                                self,
                                n == 0,
                                "pid {pid}: {:?} is restarted after a handler but had \
                                 already transferred {n} bytes/fds, which are lost",
                                p.call
                            );
                            reset(&mut p.call);
                            self.guest(pid).restart = Some(p.call);
                            self.after_call(pid);
                        }
                    },
                }
            }
            Action::BridgeData { id, data } => {
                ensure!(self, !data.is_empty(), "empty bridge chunk");
                ensure!(
                    self,
                    self.unacked.insert(id),
                    "bridge {id} sent data before its ack"
                );
            }
            Action::BridgeEof { .. } => {}
            Action::BridgeOpen { id, .. } => {
                self.fail(format!("bridge {id} opened without outlets"))
            }
        }
    }

    /// Retries the parked calls whose deadline has passed, and fires timers.
    fn expire(&mut self) {
        let now = Instant::now();
        self.k.fire_timers(now);
        let due: Vec<u64> = self
            .parked
            .iter()
            .filter(|(_, p)| p.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(p) = self.unpark(id) {
                self.attempt(p.pid, p.call);
            }
        }
    }

    // ---- invariants ----------------------------------------------------------------

    /// Every parked call must still be blocked: a spurious retry blocks again
    /// and changes nothing. A call that would complete was not woken.
    fn check_parked(&mut self) {
        let ids: Vec<u64> = self.parked.keys().copied().collect();
        for id in ids {
            let Some(p) = self.parked.get_mut(&id) else {
                continue;
            };
            let pid = p.pid;
            let before = progress(&p.call);
            self.stats.spurious += 1;
            match self.k.call(pid, &mut p.call) {
                Outcome::Block(_) => {
                    let after = progress(&p.call);
                    if after != before {
                        let msg = format!(
                            "pid {pid}: parked {:?} made progress ({before} -> {after}) \
                             without a wakeup",
                            p.call
                        );
                        self.fail(msg);
                    }
                }
                Outcome::Ready(r) => {
                    let p = self.unpark(id).unwrap();
                    let timed_out = p.deadline.is_some_and(|d| d <= Instant::now());
                    // Linux does not wake waitpid when a child leaves the
                    // waited-for group either.
                    let lost_child =
                        matches!(p.call, Syscall::Wait { .. }) && r == Err(Errno::ECHILD);
                    // Another process made the shared description
                    // non-blocking: Linux too only notices at the next
                    // wakeup, and then fails the call with EAGAIN.
                    let now_nonblocking = call_fd(&p.call)
                        .and_then(|fd| self.k.process(pid)?.fds().get(fd).ok())
                        .is_some_and(|e| e.file.nonblocking());
                    // A process sharing the socket made it listen, or
                    // connected it: Linux's connect waits on the target
                    // alone and also only finds out when that wakes it.
                    let own_state = matches!(p.call, Syscall::Connect { .. })
                        && matches!(r, Err(Errno::EINVAL | Errno::EISCONN));
                    // The name now leads elsewhere (unlinked, bound anew):
                    // Linux's connect also looks it up again only once the
                    // old target wakes it.
                    let retargeted = match &p.call {
                        Syscall::Connect { addr, .. } => {
                            self.socket_keys(pid, addr).as_ref() != Some(&p.keys)
                        }
                        _ => false,
                    };
                    if !timed_out && !lost_child && !now_nonblocking && !own_state && !retargeted {
                        self.fail(format!(
                            "lost wakeup: pid {pid} parked in {:?} on {:?}, which was not \
                             woken but completes on retry with {r:?}",
                            p.call, p.keys
                        ));
                    }
                    self.complete(pid, p.call, r);
                }
            }
        }
    }

    /// The wait keys of the socket `addr` names for `pid` now.
    fn socket_keys(&mut self, pid: Pid, addr: &[u8]) -> Option<Vec<WaitKey>> {
        use crate::file::FileDescription;
        use crate::unix::addr::UnixAddr;
        let sock = match UnixAddr::parse(addr).ok()? {
            UnixAddr::Unnamed => return None,
            UnixAddr::Abstract(name) => self.k.unix.lookup(&name)?,
            UnixAddr::Path(path) => {
                let cwd = self.k.process(pid)?.cwd().to_owned();
                let ep = self.k.vfs.lookup_socket(&cwd, &path).ok()?;
                ep.downcast_ref::<crate::unix::socket::Binding>()?
                    .socket
                    .upgrade()?
            }
        };
        Some(sock.wait_keys())
    }

    fn check_tables(&mut self) {
        let mut errors = Vec::new();
        for p in self.k.procs.iter() {
            let Some(g) = self.guests.get(&p.pid()) else {
                errors.push(format!("unknown process {}", p.pid()));
                continue;
            };
            if p.ppid() != 0 {
                match self.k.procs.get(p.ppid()) {
                    Some(parent) if parent.state() == ProcState::Live => {}
                    other => errors.push(format!(
                        "pid {} has parent {} in state {:?}",
                        p.pid(),
                        p.ppid(),
                        other.map(|o| o.state())
                    )),
                }
            }
            match p.state() {
                ProcState::Zombie(_) => {
                    if g.life != Life::Exited {
                        errors.push(format!("pid {} is a zombie but never exited", p.pid()));
                    }
                    if p.fds().iter().next().is_some() {
                        errors.push(format!("zombie {} holds fds", p.pid()));
                    }
                }
                ProcState::Live => {
                    if g.life == Life::Exited {
                        errors.push(format!("pid {} exited but is live", p.pid()));
                    }
                    if matches!(g.life, Life::Dying(_)) && p.killed().is_none() {
                        errors.push(format!("pid {} dies but was not killed", p.pid()));
                    }
                    let kernel: Vec<i32> = p.fds().iter().map(|(fd, _)| fd).collect();
                    let model: Vec<i32> = g.fds.keys().copied().collect();
                    if kernel != model {
                        errors.push(format!(
                            "pid {}: kernel fds {kernel:?}, model fds {model:?}",
                            p.pid()
                        ));
                        continue;
                    }
                    for (fd, e) in p.fds().iter() {
                        let m = &g.fds[&fd];
                        if Arc::as_ptr(&e.file) != m.file.as_ptr() {
                            errors.push(format!(
                                "pid {}: fd {fd} names {:?}, not the description the model expects",
                                p.pid(),
                                e.file.desc
                            ));
                        }
                        if e.cloexec != m.cloexec {
                            errors.push(format!(
                                "pid {}: fd {fd} cloexec {} (model {})",
                                p.pid(),
                                e.cloexec,
                                m.cloexec
                            ));
                        }
                        if !(0..crate::fd_table::FD_LIMIT as i32).contains(&fd) {
                            errors.push(format!("pid {}: fd {fd} out of range", p.pid()));
                        }
                        if let Some(e) = poll_disagrees(&e.file) {
                            errors.push(format!("pid {}: fd {fd}: {e}", p.pid()));
                        }
                    }
                }
            }
        }
        for (pid, g) in &self.guests {
            if g.life != Life::Exited && self.k.process(*pid).is_none() {
                errors.push(format!("pid {pid} vanished while {:?}", g.life));
            }
            if let Some(id) = g.parked {
                if self.parked.get(&id).map(|p| p.pid) != Some(*pid) {
                    errors.push(format!("pid {pid}: parked call {id} lost"));
                }
                if g.life != Life::Running {
                    errors.push(format!("pid {pid} is {:?} with a parked call", g.life));
                }
            }
        }
        if let Some(e) = errors.into_iter().next() {
            self.fail(e);
        }
    }

    // ---- the fd model --------------------------------------------------------------

    fn has_fd(&self, pid: Pid, fd: i32) -> bool {
        self.guests[&pid].fds.contains_key(&fd)
    }

    /// Records that `pid` got fd `fd` (which must be the lowest free one at
    /// or above `min`, if given); `fresh` descriptions must be new.
    fn learn(&mut self, pid: Pid, fd: i32, min: Option<i32>, fresh: bool, cloexec: bool) {
        if let Some(min) = min {
            let want = lowest_free(&self.guests[&pid].fds, min);
            ensure!(
                self,
                fd == want,
                "pid {pid} got fd {fd}, but the lowest free one is {want}"
            );
        }
        let Some(file) = self
            .k
            .process(pid)
            .and_then(|p| p.fds().get(fd).ok())
            .map(|e| e.file.clone())
        else {
            self.fail(format!("pid {pid}: returned fd {fd} is not installed"));
            return;
        };
        let ptr = Arc::as_ptr(&file);
        if fresh {
            ensure!(
                self,
                !self.known.contains_key(&ptr),
                "pid {pid}: new fd {fd} shares an existing description {:?}",
                file.desc
            );
            self.created.push(Arc::downgrade(&file));
        }
        self.known
            .entry(ptr)
            .or_insert_with(|| Arc::downgrade(&file));
        self.guest(pid).fds.insert(
            fd,
            Entry {
                file: Arc::downgrade(&file),
                cloexec,
            },
        );
    }

    fn apply(&mut self, pid: Pid, call: &Syscall, r: &KResult<Ret>) {
        use Syscall as S;
        let Ok(ret) = r else {
            let fd = match call {
                S::Close { fd }
                | S::Dup { fd }
                | S::Read { fd, .. }
                | S::Write { fd, .. }
                | S::Pread { fd, .. }
                | S::Pwrite { fd, .. }
                | S::Seek { fd, .. }
                | S::FdStat { fd }
                | S::FileStat { fd }
                | S::Fcntl { fd, .. } => Some(*fd),
                _ => None,
            };
            if let Some(fd) = fd {
                if !self.has_fd(pid, fd) {
                    // EINTR: a call of a stopped process waits for SIGCONT
                    // before it starts, and a caught signal interrupts it.
                    ensure!(
                        self,
                        matches!(r, Err(Errno::EBADF | Errno::EINTR)),
                        "pid {pid}: {call:?} on a closed fd gave {r:?}, not EBADF"
                    );
                }
            }
            return;
        };
        match (call, ret) {
            (S::Close { fd }, _) => {
                let had = self.guest(pid).fds.remove(fd).is_some();
                ensure!(self, had, "pid {pid}: closed fd {fd} that was not open");
            }
            (S::Dup { fd }, Ret::Fd(n)) => {
                let Some(e) = self.guests[&pid].fds.get(fd).cloned() else {
                    return self.fail(format!("pid {pid}: dup of closed fd {fd} succeeded"));
                };
                let want = lowest_free(&self.guests[&pid].fds, 0);
                ensure!(self, *n == want, "dup gave {n}, lowest free is {want}");
                self.guest(pid).fds.insert(
                    *n,
                    Entry {
                        file: e.file,
                        cloexec: false,
                    },
                );
            }
            (S::Dup3 { old, new, flags }, Ret::Fd(n)) => {
                ensure!(self, n == new, "dup3 gave {n}, not {new}");
                let Some(e) = self.guests[&pid].fds.get(old).cloned() else {
                    return self.fail(format!("pid {pid}: dup3 of closed fd {old} succeeded"));
                };
                self.guest(pid).fds.insert(
                    *new,
                    Entry {
                        file: e.file,
                        cloexec: flags & oflag::O_CLOEXEC != 0,
                    },
                );
            }
            (S::Fcntl { fd, cmd, arg }, Ret::Int(n)) => match *cmd {
                0 | 1030 => {
                    let e = self.guests[&pid].fds[fd].clone();
                    let want = lowest_free(&self.guests[&pid].fds, *arg);
                    ensure!(self, *n == want, "F_DUPFD gave {n}, lowest free is {want}");
                    self.guest(pid).fds.insert(
                        *n,
                        Entry {
                            file: e.file,
                            cloexec: *cmd == 1030,
                        },
                    );
                }
                2 => {
                    if let Some(e) = self.guest(pid).fds.get_mut(fd) {
                        e.cloexec = arg & 1 != 0;
                    }
                }
                1 => {
                    let want = self.guests[&pid].fds.get(fd).map(|e| e.cloexec as i32);
                    ensure!(self, want == Some(*n), "F_GETFD gave {n}, model {want:?}");
                }
                _ => {}
            },
            (S::Renumber { from, to }, _) => {
                let g = self.guest(pid);
                match g.fds.remove(from) {
                    Some(e) => {
                        g.fds.insert(*to, e);
                    }
                    None => self.fail(format!("renumber of closed fd {from} succeeded")),
                }
            }
            (S::PathOpen { cloexec, .. }, Ret::Fd(n)) => {
                self.learn(pid, *n, Some(0), true, *cloexec)
            }
            (S::Socket { ty, .. }, Ret::Fd(n)) => {
                let cloexec = *ty as u32 & oflag::O_CLOEXEC != 0;
                self.learn(pid, *n, Some(0), true, cloexec)
            }
            (S::Accept { flags, .. }, Ret::Accepted { fd, .. }) => {
                self.learn(pid, *fd, Some(0), true, flags & oflag::O_CLOEXEC != 0)
            }
            (S::Pipe2 { flags }, Ret::Fds(a, b)) => {
                let cloexec = flags & oflag::O_CLOEXEC != 0;
                self.learn(pid, *a, Some(0), true, cloexec);
                self.learn(pid, *b, Some(0), true, cloexec);
            }
            (S::SocketPair { ty, .. }, Ret::Fds(a, b)) => {
                let cloexec = *ty as u32 & oflag::O_CLOEXEC != 0;
                self.learn(pid, *a, Some(0), true, cloexec);
                self.learn(pid, *b, Some(0), true, cloexec);
            }
            (S::RecvMsg { flags, fds_cap, .. }, Ret::Received { fds, .. }) => {
                ensure!(
                    self,
                    fds.len() <= *fds_cap,
                    "recvmsg installed {} fds, room for {fds_cap}",
                    fds.len()
                );
                for fd in fds {
                    self.learn(pid, *fd, Some(0), false, flags & 0x4000_0000 != 0);
                    let ptr = self.guests[&pid].fds[fd].file.as_ptr();
                    ensure!(
                        self,
                        self.sent.contains(&ptr),
                        "pid {pid} received fd {fd} for a description nobody sent"
                    );
                }
            }
            (S::Spawn(req), Ret::Pid(child)) => self.spawned(pid, req, *child),
            (S::Fork, Ret::Pid(child)) => self.forked(pid, *child),
            (S::Wait { .. }, Ret::Waited { pid: child, .. }) if *child > 0 => {
                let g = self.guests.get(child).map(|g| g.life);
                let reaped = self.k.process(*child).is_none();
                // A stop or continue report leaves the child in place.
                ensure!(
                    self,
                    !reaped || g == Some(Life::Exited),
                    "pid {pid} reaped {child}, which is {g:?}"
                );
            }
            _ => {}
        }
    }

    /// Models the child of a successful spawn: the parent's table, the file
    /// actions, then close-on-exec.
    fn spawned(&mut self, parent: Pid, req: &SpawnRequest, child: Pid) {
        self.stats.spawned += 1;
        // `None`: a file the child opened, learned from the kernel below.
        let mut fds: BTreeMap<i32, (Option<Weak<OpenFile>>, bool, usize)> = self.guests[&parent]
            .fds
            .iter()
            .map(|(fd, e)| (*fd, (Some(e.file.clone()), e.cloexec, 0)))
            .collect();
        for (i, a) in req.actions.iter().enumerate() {
            match a {
                SpawnAction::Close(fd) => {
                    fds.remove(fd);
                }
                SpawnAction::Dup2 { fd, newfd } => {
                    if fd == newfd {
                        if let Some(e) = fds.get_mut(fd) {
                            e.1 = false;
                        }
                    } else if let Some(e) = fds.get(fd).cloned() {
                        fds.insert(*newfd, (e.0, false, e.2));
                    }
                }
                SpawnAction::Open { newfd, .. } => {
                    fds.insert(*newfd, (None, false, i + 1));
                }
                SpawnAction::Chdir(_) => {}
            }
        }
        fds.retain(|_, e| !e.1);
        let mut opened: HashMap<usize, *const OpenFile> = HashMap::new();
        let mut model = BTreeMap::new();
        for (fd, (file, cloexec, tag)) in fds {
            let file = match file {
                Some(f) => f,
                None => {
                    let Some(k) = self
                        .k
                        .process(child)
                        .and_then(|p| p.fds().get(fd).ok())
                        .map(|e| e.file.clone())
                    else {
                        return self.fail(format!("spawned {child}: opened fd {fd} missing"));
                    };
                    let ptr = Arc::as_ptr(&k);
                    match opened.get(&tag) {
                        Some(p) => ensure!(self, *p == ptr, "spawn open action split in two"),
                        None => {
                            ensure!(
                                self,
                                !self.known.contains_key(&ptr),
                                "spawn open shares an existing description"
                            );
                            opened.insert(tag, ptr);
                            self.created.push(Arc::downgrade(&k));
                            self.known.insert(ptr, Arc::downgrade(&k));
                        }
                    }
                    Arc::downgrade(&k)
                }
            };
            model.insert(fd, Entry { file, cloexec });
        }
        if self.guests.contains_key(&child) {
            return self.fail(format!("spawn reused pid {child}"));
        }
        self.adopt(child, model);
    }

    /// A forked child's table is the parent's: the same descriptions, the
    /// same close-on-exec flags.
    fn forked(&mut self, parent: Pid, child: Pid) {
        self.stats.spawned += 1;
        let model = self.guests[&parent].fds.clone();
        if self.guests.contains_key(&child) {
            return self.fail(format!("fork reused pid {child}"));
        }
        self.adopt(child, model);
    }

    /// Kills every guest, lets them unwind, and checks that nothing is left.
    fn finish(&mut self) {
        for pid in self.k.live_pids() {
            self.k.send_signal(pid, signal::SIGKILL);
        }
        self.settle();
        let dying: Vec<(Pid, i32)> = self
            .guests
            .iter()
            .filter_map(|(pid, g)| match g.life {
                Life::Dying(sig) => Some((*pid, sig)),
                _ => None,
            })
            .collect();
        for (pid, sig) in dying {
            self.attempt(
                pid,
                Syscall::Exit {
                    status: WaitStatus::signaled(sig),
                },
            );
            self.settle();
        }
        self.check_tables();
        ensure!(
            self,
            self.parked.is_empty(),
            "calls still parked after every guest died: {:?}",
            self.parked.values().map(|p| &p.call).collect::<Vec<_>>()
        );
        let left: Vec<Pid> = self.k.procs.pids();
        ensure!(self, left.is_empty(), "processes left behind: {left:?}");
        for id in std::mem::take(&mut self.bridges) {
            self.k.bridge_close(id);
        }
        self.settle();
        let leaked: Vec<String> = self
            .created
            .iter()
            .filter(|w| !self.sent.contains(&w.as_ptr()))
            .filter_map(Weak::upgrade)
            .map(|f| format!("{:?}", f.desc))
            .collect();
        ensure!(
            self,
            leaked.is_empty(),
            "descriptions alive after every guest exited: {leaked:?}"
        );
        // The VM-wide count of open files comes back to zero, unless files
        // are stuck in SCM_RIGHTS cycles.
        let stuck = self
            .sent
            .iter()
            .filter(|p| self.known.get(p).is_some_and(|w| w.strong_count() > 0))
            .count();
        ensure!(
            self,
            stuck > 0 || self.k.open_files() == 0,
            "{} files counted open after every guest exited",
            self.k.open_files()
        );
    }
}

// ---- running ---------------------------------------------------------------------

fn run_ops(ops: &[Op]) -> Result<Stats, String> {
    let mut sim = Sim::new();
    if let Some(e) = sim.bad.take() {
        return Err(format!("during setup: {e}"));
    }
    for (i, op) in ops.iter().enumerate() {
        WATCH_STEP.store(i as u64 + 1, Ordering::SeqCst);
        sim.step(op);
        if let Some(e) = sim.bad.take() {
            return Err(format!("step {i} ({op:?}): {e}"));
        }
    }
    sim.finish();
    if let Some(e) = sim.bad.take() {
        return Err(format!("at the end: {e}"));
    }
    sim.stats.cases = 1;
    Ok(sim.stats)
}

thread_local! {
    /// `SIDECAR_FUZZ_VERBOSE`: count results by call and errno.
    static VERBOSE: Cell<bool> = const { Cell::new(false) };
    static HISTOGRAM: RefCell<BTreeMap<String, u64>> = const { RefCell::new(BTreeMap::new()) };
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps panics of the driver's own thread off stderr (they are reported,
/// with their location, as failures) while leaving other threads alone.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                // The frames of this crate say where it happened.
                let trace = std::backtrace::Backtrace::force_capture().to_string();
                let frames: Vec<&str> = trace
                    .lines()
                    .filter(|l| l.contains("sidecar_kernel::") || l.contains("./src/"))
                    .take(16)
                    .collect();
                let msg = format!("{info}\n{}", frames.join("\n"));
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
            } else {
                prev(info);
            }
        }));
    });
}

static WATCH_ACTIVE: AtomicBool = AtomicBool::new(false);
static WATCH_STEP: AtomicU64 = AtomicU64::new(0);
static WATCH_CASE: AtomicU64 = AtomicU64::new(0);
static WATCH_OPS: Mutex<String> = Mutex::new(String::new());

/// Aborts with the running sequence if a case makes no progress for 60 s
/// (a deadlock: the kernel's locks are not reentrant).
fn start_watchdog() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::thread::spawn(|| {
            let mut last = (0, 0, Instant::now());
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let now = (
                    WATCH_CASE.load(Ordering::SeqCst),
                    WATCH_STEP.load(Ordering::SeqCst),
                );
                if !WATCH_ACTIVE.load(Ordering::SeqCst) || now != (last.0, last.1) {
                    last = (now.0, now.1, Instant::now());
                } else if last.2.elapsed() > Duration::from_secs(60) {
                    let ops = WATCH_OPS.lock().map(|s| s.clone()).unwrap_or_default();
                    eprintln!(
                        "fuzz: no progress for 60 s at step {} of this sequence \
                         (deadlock?):\n{ops}",
                        now.1.saturating_sub(1)
                    );
                    std::process::abort();
                }
            }
        });
    });
}

fn run_case(ops: &[Op]) -> Result<Stats, TestCaseError> {
    WATCH_CASE.fetch_add(1, Ordering::SeqCst);
    WATCH_STEP.store(0, Ordering::SeqCst);
    *WATCH_OPS.lock().unwrap_or_else(|e| e.into_inner()) = format_ops(ops);
    QUIET.with(|q| q.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_ops(ops)));
    QUIET.with(|q| q.set(false));
    match r {
        Ok(Ok(stats)) => Ok(stats),
        Ok(Err(e)) => Err(TestCaseError::fail(e)),
        Err(_) => {
            let msg = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "panic".into());
            let step = WATCH_STEP.load(Ordering::SeqCst);
            Err(TestCaseError::fail(format!(
                "kernel panicked at step {}: {msg}",
                step.saturating_sub(1)
            )))
        }
    }
}

fn format_ops(ops: &[Op]) -> String {
    ops.iter()
        .enumerate()
        .map(|(i, op)| format!("  {i:3}: {op:?}\n"))
        .collect()
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    let v = std::env::var(name).ok()?;
    Some(
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
    )
}

/// Cases of the default (`cargo test`) run.
const DEFAULT_CASES: u32 = 256;

/// Runs `cases` cases from `seed`; panics with the shrunk sequence on a
/// failure.
fn run_batch(seed: u64, cases: u32, total: &mut Stats) {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2048,
        max_shrink_time: 300_000,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let acc = RefCell::new(Stats::default());
    let result = runner.run(&ops(), |ops| {
        let s = run_case(&ops)?;
        acc.borrow_mut().add(&s);
        Ok(())
    });
    WATCH_ACTIVE.store(false, Ordering::SeqCst);
    match result {
        Ok(()) => total.add(&acc.into_inner()),
        Err(TestError::Fail(reason, ops)) => panic!(
            "fuzz: seed {seed}: {reason}\nminimal sequence ({} ops):\n{}",
            ops.len(),
            format_ops(&ops)
        ),
        Err(TestError::Abort(reason)) => panic!("fuzz: seed {seed}: aborted: {reason}"),
    }
}

/// The driver. See the module docs for what it checks and the environment
/// it reads.
#[test]
fn randomized_syscall_sequences() {
    install_panic_hook();
    start_watchdog();
    let started = Instant::now();
    let mut total = Stats::default();
    let seconds: Option<f64> = env("SIDECAR_FUZZ_SECONDS");
    let seed: Option<u64> = env("SIDECAR_FUZZ_SEED");
    WATCH_ACTIVE.store(true, Ordering::SeqCst);
    VERBOSE.with(|v| v.set(std::env::var_os("SIDECAR_FUZZ_VERBOSE").is_some()));
    match seconds {
        None => {
            let cases = env("SIDECAR_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
            run_batch(seed.unwrap_or(0x5eed), cases, &mut total);
        }
        Some(secs) => {
            let base = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
            eprintln!("fuzz: seed {base}, {secs} s");
            let mut batch = 0;
            while started.elapsed().as_secs_f64() < secs {
                WATCH_ACTIVE.store(true, Ordering::SeqCst);
                run_batch(base.wrapping_add(batch), 16, &mut total);
                batch += 1;
            }
        }
    }
    HISTOGRAM.with(|h| {
        for (k, n) in h.borrow().iter() {
            eprintln!("{n:8} {k}");
        }
    });
    eprintln!(
        "fuzz: {} cases, {} steps, {} calls ({} blocked, {} woken, {} interrupted, \
         {} restarted, {} spurious retries, {} spawns) in {:.1} s",
        total.cases,
        total.steps,
        total.calls,
        total.blocks,
        total.wakeups,
        total.interrupts,
        total.restarts,
        total.spurious,
        total.spawned,
        started.elapsed().as_secs_f64()
    );
}

// ---- regressions the driver found --------------------------------------------------

/// A kernel with one process, as the kernel's own tests make it.
fn one_process() -> (Kernel, Pid) {
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

fn ready(o: Outcome) -> KResult<Ret> {
    match o {
        Outcome::Ready(r) => r,
        Outcome::Block(keys) => panic!("blocked on {keys:?}"),
    }
}

/// `kill(INT_MIN, sig)` and `waitpid(INT_MIN, ...)` negated the pid to find
/// a group, which overflows (a panic in debug builds); Linux answers ESRCH.
#[test]
fn kill_and_wait_of_int_min_are_esrch() {
    let (mut k, pid) = one_process();
    let kill = Syscall::Kill {
        pid: Pid::MIN,
        sig: 0,
    };
    assert_eq!(ready(k.call(pid, &mut { kill })), Err(Errno::ESRCH));
    let wait = Syscall::Wait {
        pid: Pid::MIN,
        options: 0,
    };
    assert_eq!(ready(k.call(pid, &mut { wait })), Err(Errno::ESRCH));
}

/// Closing a socket whose unread data carries (SCM_RIGHTS) the last
/// reference to its own peer dropped the peer while holding their
/// connection's lock, and the peer's drop took that lock again: the service
/// thread deadlocked.
#[test]
fn closing_a_socket_holding_its_peer_in_flight_does_not_deadlock() {
    within_30s(|| {
        let (mut k, pid) = one_process();
        let mut pair = Syscall::SocketPair {
            domain: 1,
            ty: 1,
            protocol: 0,
        };
        let Ok(Ret::Fds(a, b)) = ready(k.call(pid, &mut pair)) else {
            panic!("socketpair failed")
        };
        let mut send = Syscall::SendMsg {
            fd: a,
            data: b"x".to_vec(),
            fds: vec![a],
            flags: 0,
            addr: None,
            done: 0,
        };
        assert_eq!(ready(k.call(pid, &mut send)), Ok(Ret::Size(1)));
        for fd in [a, b] {
            let mut close = Syscall::Close { fd };
            assert_eq!(ready(k.call(pid, &mut close)), Ok(Ret::Unit));
        }
    });
}

/// Runs `f` on a thread of its own; a deadlock fails the test instead of
/// hanging it.
fn within_30s(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        f();
        tx.send(()).unwrap();
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("deadlocked"),
        Err(e) => panic!("the test thread failed: {e}"),
    }
}

/// A datagram socket may be connected to itself (bind, then connect to its
/// own name). poll, getpeername and SO_PEERCRED locked the socket and then
/// its peer, the same mutex again: the service thread deadlocked.
#[test]
fn a_datagram_socket_connected_to_itself_does_not_deadlock() {
    within_30s(|| {
        let (mut k, pid) = one_process();
        let mut sock = Syscall::Socket {
            domain: 1,
            ty: 2,
            protocol: 0,
        };
        let Ok(Ret::Fd(fd)) = ready(k.call(pid, &mut sock)) else {
            panic!("socket failed")
        };
        let name = addr(3);
        let mut bind = Syscall::Bind {
            fd,
            addr: name.clone(),
        };
        assert_eq!(ready(k.call(pid, &mut bind)), Ok(Ret::Unit));
        let mut connect = Syscall::Connect {
            fd,
            addr: name.clone(),
        };
        assert_eq!(ready(k.call(pid, &mut connect)), Ok(Ret::Unit));
        let mut poll = Syscall::PollFds {
            fds: vec![(fd, crate::file::poll::POLLOUT)],
            deadline: None,
        };
        assert_eq!(
            ready(k.call(pid, &mut poll)),
            Ok(Ret::Revents(vec![crate::file::poll::POLLOUT]))
        );
        let mut peer = Syscall::SockName { fd, peer: true };
        assert_eq!(ready(k.call(pid, &mut peer)), Ok(Ret::Bytes(name)));
        let mut cred = Syscall::GetSockOpt {
            fd,
            level: 1,
            name: 17,
        };
        assert_eq!(
            ready(k.call(pid, &mut cred)),
            Ok(Ret::SockOpt(SockOpt::Cred {
                pid,
                uid: 0,
                gid: 0
            }))
        );
    });
}

/// A MSG_WAITALL receive that had gathered some bytes when a caught signal
/// interrupted it was restarted (SA_RESTART) or failed with EINTR, and the
/// bytes it had taken off the socket were lost. Linux returns them.
#[test]
fn a_signal_ends_a_waitall_receive_with_what_it_has() {
    for flags in [0, signal::SA_RESTART] {
        let (mut k, pid) = one_process();
        let mut pair = Syscall::SocketPair {
            domain: 1,
            ty: 1,
            protocol: 0,
        };
        let Ok(Ret::Fds(a, b)) = ready(k.call(pid, &mut pair)) else {
            panic!("socketpair failed")
        };
        let mut catch = Syscall::SigAction {
            sig: 10,
            action: SigAction {
                disposition: Disposition::Catch,
                flags,
                mask: 0,
            },
        };
        assert_eq!(ready(k.call(pid, &mut catch)), Ok(Ret::Unit));
        let mut send = Syscall::SendMsg {
            fd: a,
            data: b"abc".to_vec(),
            fds: vec![],
            flags: 0,
            addr: None,
            done: 0,
        };
        assert_eq!(ready(k.call(pid, &mut send)), Ok(Ret::Size(3)));
        let mut recv = Syscall::RecvMsg {
            fd: b,
            len: 10,
            flags: 0x100, // MSG_WAITALL
            fds_cap: 0,
            acc: None,
        };
        assert!(matches!(k.call(pid, &mut recv), Outcome::Block(_)));
        // The signal arrives while the call is parked; the service retries
        // it before it asks how an interrupted call ends.
        k.send_signal(pid, 10);
        assert!(k.take_actions().contains(&Action::Interrupt { pid }));
        match k.call(pid, &mut recv) {
            Outcome::Ready(Ok(Ret::Received { len, data, .. })) => {
                assert_eq!((len, data), (3, b"abc".to_vec()))
            }
            other => panic!(
                "flags {flags:#x}: {other:?}, {:?}",
                k.interrupted(pid, &recv)
            ),
        }
    }
}

/// listen() on a listening socket with a longer backlog made room for
/// connects blocked on the full one without waking them; Linux wakes them.
#[test]
fn a_longer_backlog_wakes_blocked_connects() {
    let (mut k, pid) = one_process();
    let mut fds = Vec::new();
    for _ in 0..3 {
        let mut sock = Syscall::Socket {
            domain: 1,
            ty: 1,
            protocol: 0,
        };
        let Ok(Ret::Fd(fd)) = ready(k.call(pid, &mut sock)) else {
            panic!("socket failed")
        };
        fds.push(fd);
    }
    let (listener, first, second) = (fds[0], fds[1], fds[2]);
    let mut bind = Syscall::Bind {
        fd: listener,
        addr: addr(3),
    };
    assert_eq!(ready(k.call(pid, &mut bind)), Ok(Ret::Unit));
    let mut listen = Syscall::Listen {
        fd: listener,
        backlog: 0,
    };
    assert_eq!(ready(k.call(pid, &mut listen)), Ok(Ret::Unit));
    let mut connect = Syscall::Connect {
        fd: first,
        addr: addr(3),
    };
    assert_eq!(ready(k.call(pid, &mut connect)), Ok(Ret::Unit));
    let mut blocked = Syscall::Connect {
        fd: second,
        addr: addr(3),
    };
    let Outcome::Block(keys) = k.call(pid, &mut blocked) else {
        panic!("connect to a full backlog did not block")
    };
    k.notifier().drain();
    let mut listen = Syscall::Listen {
        fd: listener,
        backlog: 5,
    };
    assert_eq!(ready(k.call(pid, &mut listen)), Ok(Ret::Unit));
    let woken = k.notifier().drain();
    assert!(
        keys.iter().any(|key| woken.contains(key)),
        "connect not woken"
    );
    assert_eq!(ready(k.call(pid, &mut blocked)), Ok(Ret::Unit));
}
