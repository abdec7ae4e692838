//! `wasi_snapshot_preview1` on the sidecar kernel.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sidecar_kernel::file::{status, DirEntry, FileType, SetTime, Stat, Whence};
use sidecar_kernel::syscall::{PollEventKind, PollKind, PollSub};
use sidecar_kernel::vfs::OpenFlags;
use sidecar_kernel::{Errno, Ret, Syscall};
use wasmtime::{Caller, Linker};

use super::mem::iov_total;
use super::{expect_ret, run, split};
use crate::guest::{AbiResult, Fault, GuestCtx, GuestExit};

const W: &str = "wasi_snapshot_preview1";

/// All 46 functions of preview 1.
pub const FUNCS: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

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

/// WASI signal numbers skip Linux's SIGSTKFLT (16).
fn wasi_signal_to_linux(sig: u8) -> i32 {
    match sig {
        0..=15 => i32::from(sig),
        s => i32::from(s) + 1,
    }
}

type C<'a> = Caller<'a, GuestCtx>;

pub fn add(l: &mut Linker<GuestCtx>) -> wasmtime::Result<()> {
    l.func_wrap(W, "args_sizes_get", |mut c: C<'_>, argc: u32, size: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            let total: usize = ctx.spec.args.iter().map(|a| a.len() + 1).sum();
            m.write_u32(argc, ctx.spec.args.len() as u32)?;
            m.write_u32(size, total as u32)?;
            Ok(())
        })
    })?;
    l.func_wrap(W, "args_get", |mut c: C<'_>, argv: u32, buf: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            write_strings(&mut m, &ctx.spec.args, argv, buf)
        })
    })?;
    l.func_wrap(
        W,
        "environ_sizes_get",
        |mut c: C<'_>, count: u32, size: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                let total: usize = ctx.spec.env.iter().map(|a| a.len() + 1).sum();
                m.write_u32(count, ctx.spec.env.len() as u32)?;
                m.write_u32(size, total as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(W, "environ_get", |mut c: C<'_>, env: u32, buf: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            write_strings(&mut m, &ctx.spec.env, env, buf)
        })
    })?;
    l.func_wrap(W, "clock_res_get", |mut c: C<'_>, id: u32, out: u32| {
        run(&mut c, |c| {
            let (mut m, _) = split(c)?;
            if id > 3 {
                return Err(Errno::EINVAL.into());
            }
            m.write_u64(out, 1)?;
            Ok(())
        })
    })?;
    l.func_wrap(
        W,
        "clock_time_get",
        |mut c: C<'_>, id: u32, _precision: u64, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                let now = clock_now(ctx, id)?;
                m.write_u64(out, now)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "fd_advise",
        |mut c: C<'_>, fd: i32, _off: u64, _len: u64, advice: u32| {
            run(&mut c, |c| {
                if advice > 5 {
                    return Err(Errno::EINVAL.into());
                }
                let (_, ctx) = split(c)?;
                ctx.call(Syscall::Advise { fd })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "fd_allocate",
        |mut c: C<'_>, fd: i32, offset: u64, len: u64| {
            run(&mut c, |c| {
                let (_, ctx) = split(c)?;
                ctx.call(Syscall::Allocate { fd, offset, len })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(W, "fd_close", |mut c: C<'_>, fd: i32| {
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            ctx.call(Syscall::Close { fd })?;
            Ok(())
        })
    })?;
    for name in ["fd_datasync", "fd_sync"] {
        l.func_wrap(W, name, |mut c: C<'_>, fd: i32| {
            run(&mut c, |c| {
                let (_, ctx) = split(c)?;
                ctx.call(Syscall::Sync { fd })?;
                Ok(())
            })
        })?;
    }
    l.func_wrap(W, "fd_fdstat_get", |mut c: C<'_>, fd: i32, out: u32| {
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
    })?;
    l.func_wrap(
        W,
        "fd_fdstat_set_flags",
        |mut c: C<'_>, fd: i32, flags: u32| {
            run(&mut c, |c| {
                let (_, ctx) = split(c)?;
                let status = status_from_fdflags(flags as u16);
                ctx.call(Syscall::FdSetStatus { fd, status })?;
                Ok(())
            })
        },
    )?;
    // Rights only ever shrink and the kernel does not enforce them: accept.
    l.func_wrap(
        W,
        "fd_fdstat_set_rights",
        |mut c: C<'_>, fd: i32, _b: u64, _i: u64| {
            run(&mut c, |c| {
                let (_, ctx) = split(c)?;
                ctx.call(Syscall::FdStat { fd })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(W, "fd_filestat_get", |mut c: C<'_>, fd: i32, out: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            let st = expect_ret!(ctx.call(Syscall::FileStat { fd })?, Ret::Stat(s) => s);
            write_filestat(&mut m, out, &st)
        })
    })?;
    l.func_wrap(
        W,
        "fd_filestat_set_size",
        |mut c: C<'_>, fd: i32, size: u64| {
            run(&mut c, |c| {
                let (_, ctx) = split(c)?;
                ctx.call(Syscall::SetSize { fd, size })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "fd_filestat_set_times",
        |mut c: C<'_>, fd: i32, atim: u64, mtim: u64, fst: u32| {
            run(&mut c, |c| {
                let (_, ctx) = split(c)?;
                let (atime, mtime) = set_times(atim, mtim, fst as u16)?;
                ctx.call(Syscall::SetTimes { fd, atime, mtime })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "fd_pread",
        |mut c: C<'_>, fd: i32, iovs: u32, n: u32, offset: u64, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(out, 4)?;
                let iovs = m.iovecs(iovs, n)?;
                let len = iov_total(&iovs).min(MAX_IO);
                let data =
                    expect_ret!(ctx.call(Syscall::Pread { fd, len, offset })?, Ret::Bytes(b) => b);
                let n = m.scatter(&iovs, &data)?;
                m.write_u32(out, n as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(W, "fd_prestat_get", |mut c: C<'_>, fd: i32, out: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            let name = expect_ret!(ctx.call(Syscall::Prestat { fd })?, Ret::Prestat(n) => n);
            m.write_u32(out, 0)?;
            m.write_u32(out + 4, name.len() as u32)?;
            Ok(())
        })
    })?;
    l.func_wrap(
        W,
        "fd_prestat_dir_name",
        |mut c: C<'_>, fd: i32, buf: u32, len: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                let name = expect_ret!(ctx.call(Syscall::Prestat { fd })?, Ret::Prestat(n) => n);
                if (len as usize) < name.len() {
                    return Err(Errno::ENAMETOOLONG.into());
                }
                m.copy_out(buf, name.as_bytes())?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "fd_pwrite",
        |mut c: C<'_>, fd: i32, iovs: u32, n: u32, offset: u64, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(out, 4)?;
                let iovs = m.iovecs(iovs, n)?;
                let data = m.gather(&iovs)?;
                let n =
                    expect_ret!(ctx.call(Syscall::Pwrite { fd, data, offset })?, Ret::Size(n) => n);
                m.write_u32(out, n as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "fd_read",
        |mut c: C<'_>, fd: i32, iovs: u32, n: u32, out: u32| {
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
        },
    )?;
    l.func_wrap(
        W,
        "fd_readdir",
        |mut c: C<'_>, fd: i32, buf: u32, len: u32, cookie: u64, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(out, 4)?;
                m.slice(buf, len)?;
                let entries =
                    expect_ret!(ctx.call(Syscall::Readdir { fd, cookie })?, Ret::Entries(e) => e);
                let packed = pack_dirents(&entries, cookie, len as usize);
                m.copy_out(buf, &packed)?;
                m.write_u32(out, packed.len() as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(W, "fd_renumber", |mut c: C<'_>, from: i32, to: i32| {
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            ctx.call(Syscall::Renumber { from, to })?;
            Ok(())
        })
    })?;
    l.func_wrap(W, "fd_seek", |mut c: C<'_>, fd: i32, offset: i64, whence: u32, out: u32| {
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
    })?;
    l.func_wrap(W, "fd_tell", |mut c: C<'_>, fd: i32, out: u32| {
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
    })?;
    l.func_wrap(
        W,
        "fd_write",
        |mut c: C<'_>, fd: i32, iovs: u32, n: u32, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(out, 4)?;
                let iovs = m.iovecs(iovs, n)?;
                let data = m.gather(&iovs)?;
                let n =
                    expect_ret!(ctx.call(Syscall::Write { fd, data, done: 0 })?, Ret::Size(n) => n);
                m.write_u32(out, n as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "path_create_directory",
        |mut c: C<'_>, dirfd: i32, p: u32, pl: u32| {
            run(&mut c, |c| {
                let (m, ctx) = split(c)?;
                let path = m.string(p, pl)?;
                ctx.call(Syscall::PathMkdir { dirfd, path })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "path_filestat_get",
        |mut c: C<'_>, dirfd: i32, flags: u32, p: u32, pl: u32, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                let path = m.string(p, pl)?;
                let call = Syscall::PathStat {
                    dirfd,
                    path,
                    follow: flags & 1 != 0,
                };
                let st = expect_ret!(ctx.call(call)?, Ret::Stat(s) => s);
                write_filestat(&mut m, out, &st)
            })
        },
    )?;
    l.func_wrap(
        W,
        "path_filestat_set_times",
        |mut c: C<'_>, dirfd: i32, flags: u32, p: u32, pl: u32, atim: u64, mtim: u64, fst: u32| {
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
        },
    )?;
    l.func_wrap(
        W,
        "path_link",
        |mut c: C<'_>,
         dirfd: i32,
         flags: u32,
         p: u32,
         pl: u32,
         new_dirfd: i32,
         np: u32,
         npl: u32| {
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
        },
    )?;
    l.func_wrap(
        W,
        "path_open",
        |mut c: C<'_>,
         dirfd: i32,
         lookup: u32,
         p: u32,
         pl: u32,
         oflags: u32,
         base: u64,
         _inh: u64,
         fdf: u32,
         out: u32| {
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
                let noctty = fdf & 0x200 != 0;
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
        },
    )?;
    l.func_wrap(
        W,
        "path_readlink",
        |mut c: C<'_>, dirfd: i32, p: u32, pl: u32, buf: u32, len: u32, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                let path = m.string(p, pl)?;
                let target = expect_ret!(ctx.call(Syscall::PathReadlink { dirfd, path })?, Ret::Text(t) => t);
                let n = target.len().min(len as usize);
                m.copy_out(buf, &target.as_bytes()[..n])?;
                m.write_u32(out, n as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "path_remove_directory",
        |mut c: C<'_>, dirfd: i32, p: u32, pl: u32| {
            run(&mut c, |c| {
                let (m, ctx) = split(c)?;
                let path = m.string(p, pl)?;
                ctx.call(Syscall::PathRmdir { dirfd, path })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "path_rename",
        |mut c: C<'_>, dirfd: i32, p: u32, pl: u32, new_dirfd: i32, np: u32, npl: u32| {
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
        },
    )?;
    l.func_wrap(
        W,
        "path_symlink",
        |mut c: C<'_>, tp: u32, tl: u32, dirfd: i32, p: u32, pl: u32| {
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
        },
    )?;
    l.func_wrap(
        W,
        "path_unlink_file",
        |mut c: C<'_>, dirfd: i32, p: u32, pl: u32| {
            run(&mut c, |c| {
                let (m, ctx) = split(c)?;
                let path = m.string(p, pl)?;
                ctx.call(Syscall::PathUnlink { dirfd, path })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        W,
        "poll_oneoff",
        |mut c: C<'_>, input: u32, output: u32, nsubs: u32, out: u32| {
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
        },
    )?;
    l.func_wrap(
        W,
        "proc_exit",
        |_c: C<'_>, code: u32| -> wasmtime::Result<()> {
            Err(GuestExit::Exited(code as i32).into())
        },
    )?;
    l.func_wrap(W, "proc_raise", |mut c: C<'_>, sig: u32| {
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            let call = Syscall::Kill {
                pid: ctx.pid,
                sig: wasi_signal_to_linux(sig as u8),
            };
            ctx.call(call)?;
            Ok(())
        })
    })?;
    l.func_wrap(W, "sched_yield", |_c: C<'_>| -> i32 {
        std::thread::yield_now();
        0
    })?;
    l.func_wrap(W, "random_get", |mut c: C<'_>, buf: u32, len: u32| {
        run(&mut c, |c| {
            let (mut m, _) = split(c)?;
            let out = m.slice_mut(buf, len)?;
            getrandom::fill(out).map_err(|_| Fault::Errno(Errno::EIO))?;
            Ok(())
        })
    })?;
    // WASI's socket calls only apply to sockets, which the kernel does not
    // give out through WASI; every other fd is not a socket.
    l.func_wrap(
        W,
        "sock_accept",
        |mut c: C<'_>, fd: i32, _flags: u32, _out: u32| run(&mut c, |c| not_a_socket(c, fd)),
    )?;
    l.func_wrap(
        W,
        "sock_recv",
        |mut c: C<'_>, fd: i32, _d: u32, _dl: u32, _f: u32, _o: u32, _of: u32| {
            run(&mut c, |c| not_a_socket(c, fd))
        },
    )?;
    l.func_wrap(
        W,
        "sock_send",
        |mut c: C<'_>, fd: i32, _d: u32, _dl: u32, _f: u32, _o: u32| {
            run(&mut c, |c| not_a_socket(c, fd))
        },
    )?;
    l.func_wrap(W, "sock_shutdown", |mut c: C<'_>, fd: i32, _how: u32| {
        run(&mut c, |c| not_a_socket(c, fd))
    })?;
    Ok(())
}

fn not_a_socket(c: &mut C<'_>, fd: i32) -> AbiResult<()> {
    let (_, ctx) = split(c)?;
    ctx.call(Syscall::FdStat { fd })?;
    Err(Errno::ENOTSOCK.into())
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
