//! `wasi_snapshot_preview1` on the sidecar kernel.

// Import functions take the parameters the ABI gives them.
#![allow(clippy::too_many_arguments)]

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sidecar_abi::consts::fdflags::NOCTTY;
use sidecar_abi::{Module, Signal, WasiFn};
use sidecar_kernel::file::{status, DirEntry, FileType, SetTime, Stat, Whence};
use sidecar_kernel::syscall::{PollEventKind, PollKind, PollSub};
use sidecar_kernel::vfs::OpenFlags;
use sidecar_kernel::{Errno, Ret, Syscall};
use wasmtime::{Caller, Linker};

use super::mem::iov_total;
use super::{expect_ret, run, split};
use crate::guest::{AbiResult, Fault, GuestCtx, GuestExit};

const W: &str = Module::Wasi.name();

/// Largest single read handed to the kernel; longer reads return short, as
/// POSIX allows.
const MAX_IO: usize = 4 << 20;

mod rights {
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const ALL: u64 = (1 << 30) - 1;
}

mod fdflags {
    pub const APPEND: u16 = 1;
    pub const DSYNC: u16 = 2;
    pub const NONBLOCK: u16 = 4;
    pub const RSYNC: u16 = 8;
    pub const SYNC: u16 = 16;
}

fn filetype(t: FileType) -> u8 {
    match t {
        FileType::Unknown | FileType::Fifo => 0,
        FileType::BlockDevice => 1,
        FileType::CharacterDevice => 2,
        FileType::Directory => 3,
        FileType::RegularFile => 4,
        FileType::SocketDgram => 5,
        FileType::SocketStream => 6,
        FileType::SymbolicLink => 7,
    }
}

fn status_from_fdflags(f: u16) -> u32 {
    let mut s = 0;
    if f & fdflags::APPEND != 0 {
        s |= status::APPEND;
    }
    if f & fdflags::NONBLOCK != 0 {
        s |= status::NONBLOCK;
    }
    if f & (fdflags::SYNC | fdflags::DSYNC | fdflags::RSYNC) != 0 {
        s |= status::SYNC;
    }
    s
}

fn fdflags_from_status(s: u32) -> u16 {
    let mut f = 0;
    if s & status::APPEND != 0 {
        f |= fdflags::APPEND;
    }
    if s & status::NONBLOCK != 0 {
        f |= fdflags::NONBLOCK;
    }
    if s & status::SYNC != 0 {
        f |= fdflags::SYNC;
    }
    f
}

fn set_times(atim: u64, mtim: u64, fst: u16) -> AbiResult<(SetTime, SetTime)> {
    let one = |val: u64, set: u16, now: u16| -> AbiResult<SetTime> {
        match (fst & set != 0, fst & now != 0) {
            (true, true) => Err(Errno::EINVAL.into()),
            (true, false) => Ok(SetTime::At(val)),
            (false, true) => Ok(SetTime::Now),
            (false, false) => Ok(SetTime::Omit),
        }
    };
    Ok((one(atim, 1, 2)?, one(mtim, 4, 8)?))
}

fn write_filestat(mem: &mut super::GuestMem<'_>, out: u32, st: &Stat) -> AbiResult<()> {
    let mut b = [0u8; 64];
    b[0..8].copy_from_slice(&st.dev.to_le_bytes());
    b[8..16].copy_from_slice(&st.ino.to_le_bytes());
    b[16] = filetype(st.file_type.unwrap_or(FileType::Unknown));
    b[24..32].copy_from_slice(&st.nlink.to_le_bytes());
    b[32..40].copy_from_slice(&st.size.to_le_bytes());
    b[40..48].copy_from_slice(&st.atime.to_le_bytes());
    b[48..56].copy_from_slice(&st.mtime.to_le_bytes());
    b[56..64].copy_from_slice(&st.ctime.to_le_bytes());
    mem.copy_out(out, &b)?;
    Ok(())
}

/// The instant that monotonic time 0 stands for.
pub(crate) fn monotonic_base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn realtime_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Clock reads need no kernel state, so they are served on the guest's own
/// thread, as Linux serves them from the vDSO.
fn clock_now(ctx: &GuestCtx, id: u32) -> AbiResult<u64> {
    match id {
        0 => Ok(realtime_ns()),
        1 => Ok(monotonic_base().elapsed().as_nanos() as u64),
        // Process and thread CPU time: the guest's time since it started.
        2 | 3 => Ok(ctx.started.elapsed().as_nanos() as u64),
        _ => Err(Errno::EINVAL.into()),
    }
}

/// When a clock subscription fires, as an instant.
fn clock_deadline(id: u32, timeout: u64, abstime: bool) -> AbiResult<Instant> {
    let now = Instant::now();
    if !abstime {
        return Ok(now + Duration::from_nanos(timeout));
    }
    match id {
        0 => Ok(now + Duration::from_nanos(timeout.saturating_sub(realtime_ns()))),
        1..=3 => Ok(monotonic_base() + Duration::from_nanos(timeout)),
        _ => Err(Errno::EINVAL.into()),
    }
}

type C<'a> = Caller<'a, GuestCtx>;

/// Defines every `wasi_snapshot_preview1` function of the ABI crate.
pub fn add(l: &mut Linker<GuestCtx>) -> wasmtime::Result<()> {
    for &f in WasiFn::ALL {
        define(l, f)?;
    }
    Ok(())
}

/// Defines one function. The match is exhaustive: a function added to the
/// ABI crate must be served here before the runtime compiles.
fn define(l: &mut Linker<GuestCtx>, f: WasiFn) -> wasmtime::Result<()> {
    let name = f.name();
    match f {
        WasiFn::ArgsSizesGet => l.func_wrap(W, name, args_sizes_get),
        WasiFn::ArgsGet => l.func_wrap(W, name, args_get),
        WasiFn::EnvironSizesGet => l.func_wrap(W, name, environ_sizes_get),
        WasiFn::EnvironGet => l.func_wrap(W, name, environ_get),
        WasiFn::ClockResGet => l.func_wrap(W, name, clock_res_get),
        WasiFn::ClockTimeGet => l.func_wrap(W, name, clock_time_get),
        WasiFn::FdAdvise => l.func_wrap(W, name, fd_advise),
        WasiFn::FdAllocate => l.func_wrap(W, name, fd_allocate),
        WasiFn::FdClose => l.func_wrap(W, name, fd_close),
        WasiFn::FdDatasync | WasiFn::FdSync => l.func_wrap(W, name, fd_sync),
        WasiFn::FdFdstatGet => l.func_wrap(W, name, fd_fdstat_get),
        WasiFn::FdFdstatSetFlags => l.func_wrap(W, name, fd_fdstat_set_flags),
        WasiFn::FdFdstatSetRights => l.func_wrap(W, name, fd_fdstat_set_rights),
        WasiFn::FdFilestatGet => l.func_wrap(W, name, fd_filestat_get),
        WasiFn::FdFilestatSetSize => l.func_wrap(W, name, fd_filestat_set_size),
        WasiFn::FdFilestatSetTimes => l.func_wrap(W, name, fd_filestat_set_times),
        WasiFn::FdPread => l.func_wrap(W, name, fd_pread),
        WasiFn::FdPrestatGet => l.func_wrap(W, name, fd_prestat_get),
        WasiFn::FdPrestatDirName => l.func_wrap(W, name, fd_prestat_dir_name),
        WasiFn::FdPwrite => l.func_wrap(W, name, fd_pwrite),
        WasiFn::FdRead => l.func_wrap(W, name, fd_read),
        WasiFn::FdReaddir => l.func_wrap(W, name, fd_readdir),
        WasiFn::FdRenumber => l.func_wrap(W, name, fd_renumber),
        WasiFn::FdSeek => l.func_wrap(W, name, fd_seek),
        WasiFn::FdTell => l.func_wrap(W, name, fd_tell),
        WasiFn::FdWrite => l.func_wrap(W, name, fd_write),
        WasiFn::PathCreateDirectory => l.func_wrap(W, name, path_create_directory),
        WasiFn::PathFilestatGet => l.func_wrap(W, name, path_filestat_get),
        WasiFn::PathFilestatSetTimes => l.func_wrap(W, name, path_filestat_set_times),
        WasiFn::PathLink => l.func_wrap(W, name, path_link),
        WasiFn::PathOpen => l.func_wrap(W, name, path_open),
        WasiFn::PathReadlink => l.func_wrap(W, name, path_readlink),
        WasiFn::PathRemoveDirectory => l.func_wrap(W, name, path_remove_directory),
        WasiFn::PathRename => l.func_wrap(W, name, path_rename),
        WasiFn::PathSymlink => l.func_wrap(W, name, path_symlink),
        WasiFn::PathUnlinkFile => l.func_wrap(W, name, path_unlink_file),
        WasiFn::PollOneoff => l.func_wrap(W, name, poll_oneoff),
        WasiFn::ProcExit => l.func_wrap(W, name, proc_exit),
        WasiFn::ProcRaise => l.func_wrap(W, name, proc_raise),
        WasiFn::SchedYield => l.func_wrap(W, name, sched_yield),
        WasiFn::RandomGet => l.func_wrap(W, name, random_get),
        WasiFn::SockAccept => l.func_wrap(W, name, sock_accept),
        WasiFn::SockRecv => l.func_wrap(W, name, sock_recv),
        WasiFn::SockSend => l.func_wrap(W, name, sock_send),
        WasiFn::SockShutdown => l.func_wrap(W, name, sock_shutdown),
    }?;
    Ok(())
}

fn args_sizes_get(mut c: C<'_>, argc: u32, size: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        write_sizes(&mut m, &ctx.spec.args, argc, size)
    })
}

fn args_get(mut c: C<'_>, argv: u32, buf: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        write_strings(&mut m, &ctx.spec.args, argv, buf)
    })
}

fn environ_sizes_get(mut c: C<'_>, count: u32, size: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        write_sizes(&mut m, &ctx.spec.env, count, size)
    })
}

fn environ_get(mut c: C<'_>, env: u32, buf: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        write_strings(&mut m, &ctx.spec.env, env, buf)
    })
}

fn clock_res_get(mut c: C<'_>, id: u32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, _) = split(c)?;
        if id > 3 {
            return Err(Errno::EINVAL.into());
        }
        m.write_u64(out, 1)?;
        Ok(())
    })
}

fn clock_time_get(mut c: C<'_>, id: u32, _precision: u64, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let now = clock_now(ctx, id)?;
        m.write_u64(out, now)?;
        Ok(())
    })
}

fn fd_advise(mut c: C<'_>, fd: i32, _off: u64, _len: u64, advice: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        if advice > 5 {
            return Err(Errno::EINVAL.into());
        }
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::Advise { fd })?;
        Ok(())
    })
}

fn fd_allocate(mut c: C<'_>, fd: i32, offset: u64, len: u64) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::Allocate { fd, offset, len })?;
        Ok(())
    })
}

fn fd_close(mut c: C<'_>, fd: i32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::Close { fd })?;
        Ok(())
    })
}

fn fd_sync(mut c: C<'_>, fd: i32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::Sync { fd })?;
        Ok(())
    })
}

fn fd_fdstat_get(mut c: C<'_>, fd: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let (ft, st, tty) = expect_ret!(ctx.call(Syscall::FdStat { fd })?,
                Ret::FdStat { file_type, status, tty } => (file_type, status, tty));
        let mut base = rights::ALL;
        // wasi-libc's isatty(): a character device that cannot seek.
        if tty {
            base &= !(rights::FD_SEEK | rights::FD_TELL);
        }
        if ft != FileType::Directory {
            if st & status::READ == 0 {
                base &= !(rights::FD_READ | rights::FD_READDIR);
            }
            if st & status::WRITE == 0 {
                base &= !rights::FD_WRITE;
            }
        }
        let mut b = [0u8; 24];
        b[0] = filetype(ft);
        b[2..4].copy_from_slice(&fdflags_from_status(st).to_le_bytes());
        b[8..16].copy_from_slice(&base.to_le_bytes());
        b[16..24].copy_from_slice(&rights::ALL.to_le_bytes());
        m.copy_out(out, &b)?;
        Ok(())
    })
}

fn fd_fdstat_set_flags(mut c: C<'_>, fd: i32, flags: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        let status = status_from_fdflags(flags as u16);
        ctx.call(Syscall::FdSetStatus { fd, status })?;
        Ok(())
    })
}

// Rights only ever shrink and the kernel does not enforce them: accept.
fn fd_fdstat_set_rights(mut c: C<'_>, fd: i32, _b: u64, _i: u64) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::FdStat { fd })?;
        Ok(())
    })
}

fn fd_filestat_get(mut c: C<'_>, fd: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let st = expect_ret!(ctx.call(Syscall::FileStat { fd })?, Ret::Stat(s) => s);
        write_filestat(&mut m, out, &st)
    })
}

fn fd_filestat_set_size(mut c: C<'_>, fd: i32, size: u64) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::SetSize { fd, size })?;
        Ok(())
    })
}

fn fd_filestat_set_times(
    mut c: C<'_>,
    fd: i32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        let (atime, mtime) = set_times(atim, mtim, fst as u16)?;
        ctx.call(Syscall::SetTimes { fd, atime, mtime })?;
        Ok(())
    })
}

fn fd_pread(
    mut c: C<'_>,
    fd: i32,
    iovs: u32,
    n: u32,
    offset: u64,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        let iovs = m.iovecs(iovs, n)?;
        let len = iov_total(&iovs).min(MAX_IO);
        let data = expect_ret!(ctx.call(Syscall::Pread { fd, len, offset })?, Ret::Bytes(b) => b);
        let n = m.scatter(&iovs, &data)?;
        m.write_u32(out, n as u32)?;
        Ok(())
    })
}

fn fd_prestat_get(mut c: C<'_>, fd: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let name = expect_ret!(ctx.call(Syscall::Prestat { fd })?, Ret::Prestat(n) => n);
        m.write_u32(out, 0)?;
        m.write_u32(out + 4, name.len() as u32)?;
        Ok(())
    })
}

fn fd_prestat_dir_name(mut c: C<'_>, fd: i32, buf: u32, len: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let name = expect_ret!(ctx.call(Syscall::Prestat { fd })?, Ret::Prestat(n) => n);
        if (len as usize) < name.len() {
            return Err(Errno::ENAMETOOLONG.into());
        }
        m.copy_out(buf, name.as_bytes())?;
        Ok(())
    })
}

fn fd_pwrite(
    mut c: C<'_>,
    fd: i32,
    iovs: u32,
    n: u32,
    offset: u64,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        let iovs = m.iovecs(iovs, n)?;
        let data = m.gather(&iovs)?;
        let n = expect_ret!(ctx.call(Syscall::Pwrite { fd, data, offset })?, Ret::Size(n) => n);
        m.write_u32(out, n as u32)?;
        Ok(())
    })
}

fn fd_read(mut c: C<'_>, fd: i32, iovs: u32, n: u32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        let iovs = m.iovecs(iovs, n)?;
        let len = iov_total(&iovs).min(MAX_IO);
        let data = expect_ret!(ctx.call(Syscall::Read { fd, len, timer: None, parked: false })?, Ret::Bytes(b) => b);
        let n = m.scatter(&iovs, &data)?;
        m.write_u32(out, n as u32)?;
        Ok(())
    })
}

fn fd_readdir(
    mut c: C<'_>,
    fd: i32,
    buf: u32,
    len: u32,
    cookie: u64,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        m.slice(buf, len)?;
        let entries = expect_ret!(ctx.call(Syscall::Readdir { fd, cookie })?, Ret::Entries(e) => e);
        let packed = pack_dirents(&entries, cookie, len as usize);
        m.copy_out(buf, &packed)?;
        m.write_u32(out, packed.len() as u32)?;
        Ok(())
    })
}

fn fd_renumber(mut c: C<'_>, from: i32, to: i32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::Renumber { from, to })?;
        Ok(())
    })
}

fn fd_seek(mut c: C<'_>, fd: i32, offset: i64, whence: u32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let whence = match whence {
            0 => Whence::Set,
            1 => Whence::Cur,
            2 => Whence::End,
            _ => return Err(Errno::EINVAL.into()),
        };
        let pos = expect_ret!(ctx.call(Syscall::Seek { fd, offset, whence })?, Ret::Offset(o) => o);
        m.write_u64(out, pos)?;
        Ok(())
    })
}

fn fd_tell(mut c: C<'_>, fd: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let call = Syscall::Seek {
            fd,
            offset: 0,
            whence: Whence::Cur,
        };
        let pos = expect_ret!(ctx.call(call)?, Ret::Offset(o) => o);
        m.write_u64(out, pos)?;
        Ok(())
    })
}

fn fd_write(mut c: C<'_>, fd: i32, iovs: u32, n: u32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        let iovs = m.iovecs(iovs, n)?;
        let data = m.gather(&iovs)?;
        let n = expect_ret!(ctx.call(Syscall::Write { fd, data, done: 0 })?, Ret::Size(n) => n);
        m.write_u32(out, n as u32)?;
        Ok(())
    })
}

fn path_create_directory(mut c: C<'_>, dirfd: i32, p: u32, pl: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let path = m.string(p, pl)?;
        ctx.call(Syscall::PathMkdir { dirfd, path })?;
        Ok(())
    })
}

fn path_filestat_get(
    mut c: C<'_>,
    dirfd: i32,
    flags: u32,
    p: u32,
    pl: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let path = m.string(p, pl)?;
        // Only the directory comes from the kernel thread; the walk, which
        // can cost a 2,000-level lookup, runs here on the guest's thread.
        let base = ctx.dir_path(dirfd)?;
        let st = ctx.shared.vfs.stat(&base, &path, flags & 1 != 0)?;
        write_filestat(&mut m, out, &st)
    })
}

fn path_filestat_set_times(
    mut c: C<'_>,
    dirfd: i32,
    flags: u32,
    p: u32,
    pl: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let path = m.string(p, pl)?;
        let (atime, mtime) = set_times(atim, mtim, fst as u16)?;
        let follow = flags & 1 != 0;
        ctx.call(Syscall::PathSetTimes {
            dirfd,
            path,
            follow,
            atime,
            mtime,
        })?;
        Ok(())
    })
}

fn path_link(
    mut c: C<'_>,
    dirfd: i32,
    flags: u32,
    p: u32,
    pl: u32,
    new_dirfd: i32,
    np: u32,
    npl: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let path = m.string(p, pl)?;
        let new_path = m.string(np, npl)?;
        let follow = flags & 1 != 0;
        ctx.call(Syscall::PathLink {
            dirfd,
            path,
            follow,
            new_dirfd,
            new_path,
        })?;
        Ok(())
    })
}

fn path_open(
    mut c: C<'_>,
    dirfd: i32,
    lookup: u32,
    p: u32,
    pl: u32,
    oflags: u32,
    base: u64,
    _inh: u64,
    fdf: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        let path = m.string(p, pl)?;
        let flags = OpenFlags {
            read: base & (rights::FD_READ | rights::FD_READDIR) != 0,
            write: base & rights::FD_WRITE != 0,
            create: oflags & 1 != 0,
            directory: oflags & 2 != 0,
            excl: oflags & 4 != 0,
            truncate: oflags & 8 != 0,
            append: fdf as u16 & fdflags::APPEND != 0,
            nofollow: lookup & 1 == 0,
        };
        let status = status_from_fdflags(fdf as u16);
        // The SDK's O_NOCTTY rides in a bit WASI leaves unused.
        let noctty = fdf as u16 & NOCTTY != 0;
        let call = Syscall::PathOpen {
            dirfd,
            path,
            flags,
            status,
            cloexec: false,
            noctty,
        };
        let fd = expect_ret!(ctx.call(call)?, Ret::Fd(fd) => fd);
        m.write_u32(out, fd as u32)?;
        Ok(())
    })
}

fn path_readlink(
    mut c: C<'_>,
    dirfd: i32,
    p: u32,
    pl: u32,
    buf: u32,
    len: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let path = m.string(p, pl)?;
        let target =
            expect_ret!(ctx.call(Syscall::PathReadlink { dirfd, path })?, Ret::Text(t) => t);
        let n = target.len().min(len as usize);
        m.copy_out(buf, &target.as_bytes()[..n])?;
        m.write_u32(out, n as u32)?;
        Ok(())
    })
}

fn path_remove_directory(mut c: C<'_>, dirfd: i32, p: u32, pl: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let path = m.string(p, pl)?;
        ctx.call(Syscall::PathRmdir { dirfd, path })?;
        Ok(())
    })
}

fn path_rename(
    mut c: C<'_>,
    dirfd: i32,
    p: u32,
    pl: u32,
    new_dirfd: i32,
    np: u32,
    npl: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let path = m.string(p, pl)?;
        let new_path = m.string(np, npl)?;
        ctx.call(Syscall::PathRename {
            dirfd,
            path,
            new_dirfd,
            new_path,
        })?;
        Ok(())
    })
}

fn path_symlink(
    mut c: C<'_>,
    tp: u32,
    tl: u32,
    dirfd: i32,
    p: u32,
    pl: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let target = m.string(tp, tl)?;
        let path = m.string(p, pl)?;
        ctx.call(Syscall::PathSymlink {
            target,
            dirfd,
            path,
        })?;
        Ok(())
    })
}

fn path_unlink_file(mut c: C<'_>, dirfd: i32, p: u32, pl: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let path = m.string(p, pl)?;
        ctx.call(Syscall::PathUnlink { dirfd, path })?;
        Ok(())
    })
}

fn poll_oneoff(
    mut c: C<'_>,
    input: u32,
    output: u32,
    nsubs: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        if nsubs == 0 {
            return Err(Errno::EINVAL.into());
        }
        let raw = m.copy_in(input, nsubs.checked_mul(48).ok_or(Errno::EFAULT)?)?;
        m.slice(output, nsubs * 32)?;
        let mut subs = Vec::with_capacity(nsubs as usize);
        for s in raw.chunks_exact(48) {
            let u64_at = |o: usize| u64::from_le_bytes(s[o..o + 8].try_into().unwrap());
            let u32_at = |o: usize| u32::from_le_bytes(s[o..o + 4].try_into().unwrap());
            let kind = match s[8] {
                0 => {
                    let abstime = u16::from_le_bytes([s[40], s[41]]) & 1 != 0;
                    PollKind::Clock {
                        deadline: clock_deadline(u32_at(16), u64_at(24), abstime)?,
                    }
                }
                1 => PollKind::Read(u32_at(16) as i32),
                2 => PollKind::Write(u32_at(16) as i32),
                _ => return Err(Errno::EINVAL.into()),
            };
            subs.push(PollSub {
                userdata: u64_at(0),
                kind,
            });
        }
        let events = expect_ret!(ctx.call(Syscall::Poll { subs })?, Ret::Events(e) => e);
        let mut buf = Vec::with_capacity(events.len() * 32);
        for e in &events {
            let mut b = [0u8; 32];
            b[0..8].copy_from_slice(&e.userdata.to_le_bytes());
            let err = e.error.map(super::errno::to_wasi).unwrap_or(0);
            b[8..10].copy_from_slice(&err.to_le_bytes());
            b[10] = match e.kind {
                PollEventKind::Clock => 0,
                PollEventKind::Read => 1,
                PollEventKind::Write => 2,
            };
            b[16..24].copy_from_slice(&e.nbytes.to_le_bytes());
            b[24..26].copy_from_slice(&u16::from(e.hangup).to_le_bytes());
            buf.extend_from_slice(&b);
        }
        m.copy_out(output, &buf)?;
        m.write_u32(out, events.len() as u32)?;
        Ok(())
    })
}

fn proc_exit(_c: C<'_>, code: u32) -> wasmtime::Result<()> {
    Err(GuestExit::Exited(code as i32).into())
}

fn proc_raise(mut c: C<'_>, sig: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        let call = Syscall::Kill {
            pid: ctx.pid,
            // WASI signal numbers skip Linux's SIGSTKFLT (16).
            sig: Signal::from_wasi(sig as u8).number(),
        };
        ctx.call(call)?;
        Ok(())
    })
}

fn sched_yield(_c: C<'_>) -> i32 {
    std::thread::yield_now();
    0
}

fn random_get(mut c: C<'_>, buf: u32, len: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, _) = split(c)?;
        let out = m.slice_mut(buf, len)?;
        getrandom::fill(out).map_err(|_| Fault::Errno(Errno::EIO))?;
        Ok(())
    })
}

// WASI's socket calls only apply to sockets, which the kernel does not
// give out through WASI; every other fd is not a socket.
fn sock_accept(mut c: C<'_>, fd: i32, _flags: u32, _out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| not_a_socket(c, fd))
}

fn sock_recv(
    mut c: C<'_>,
    fd: i32,
    _d: u32,
    _dl: u32,
    _f: u32,
    _o: u32,
    _of: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| not_a_socket(c, fd))
}

fn sock_send(mut c: C<'_>, fd: i32, _d: u32, _dl: u32, _f: u32, _o: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| not_a_socket(c, fd))
}

fn sock_shutdown(mut c: C<'_>, fd: i32, _how: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| not_a_socket(c, fd))
}

fn not_a_socket(c: &mut C<'_>, fd: i32) -> AbiResult<()> {
    let (_, ctx) = split(c)?;
    ctx.call(Syscall::FdStat { fd })?;
    Err(Errno::ENOTSOCK.into())
}

/// `args_sizes_get`/`environ_sizes_get`: the count, and the bytes the
/// NUL-terminated strings need.
fn write_sizes(
    m: &mut super::GuestMem<'_>,
    items: &[String],
    count: u32,
    size: u32,
) -> AbiResult<()> {
    let total: usize = items.iter().map(|a| a.len() + 1).sum();
    m.write_u32(count, items.len() as u32)?;
    m.write_u32(size, total as u32)?;
    Ok(())
}

fn write_strings(
    m: &mut super::GuestMem<'_>,
    items: &[String],
    ptrs: u32,
    buf: u32,
) -> AbiResult<()> {
    let mut at = buf;
    for (i, s) in items.iter().enumerate() {
        m.write_u32(ptrs + 4 * i as u32, at)?;
        m.copy_out(at, s.as_bytes())?;
        m.write_u8(at + s.len() as u32, 0)?;
        at += s.len() as u32 + 1;
    }
    Ok(())
}

/// Lays out dirents from `cookie` on, filling at most `cap` bytes; the last
/// entry is cut short when it does not fit, which tells libc to call again.
fn pack_dirents(entries: &[DirEntry], cookie: u64, cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let mut d = Vec::with_capacity(24 + e.name.len());
        d.extend_from_slice(&(cookie + i as u64 + 1).to_le_bytes());
        d.extend_from_slice(&e.ino.to_le_bytes());
        d.extend_from_slice(&(e.name.len() as u32).to_le_bytes());
        d.push(filetype(e.file_type));
        d.extend_from_slice(&[0, 0, 0]);
        d.extend_from_slice(e.name.as_bytes());
        let room = cap - out.len();
        if d.len() >= room {
            out.extend_from_slice(&d[..room]);
            break;
        }
        out.extend_from_slice(&d);
    }
    out
}
