//! `host_net`: AF_UNIX sockets and Linux `poll` (see SPEC.md).

use std::time::{Duration, Instant};

use sidecar_kernel::syscall::SockOpt;
use sidecar_kernel::{Errno, Ret, Syscall};
use wasmtime::{Caller, Linker};

use super::mem::{iov_total, GuestMem};
use super::{expect_ret, run, split};
use crate::guest::{AbiResult, GuestCtx};

const N: &str = "host_net";

/// Every `host_net` import, for load-time checking.
pub const FUNCS: &[&str] = &[
    "socket",
    "socketpair",
    "bind",
    "listen",
    "accept4",
    "connect",
    "sendmsg",
    "recvmsg",
    "shutdown",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "poll",
];

/// Largest receive handed to the kernel at once.
const MAX_IO: usize = 4 << 20;

type C<'a> = Caller<'a, GuestCtx>;

/// Writes an address into a caller buffer of `cap` bytes, truncating like
/// Linux, and the full length into `len_out`.
fn put_addr(m: &mut GuestMem<'_>, addr: &[u8], ptr: u32, cap: u32, len_out: u32) -> AbiResult<()> {
    if ptr != 0 {
        let n = addr.len().min(cap as usize);
        m.copy_out(ptr, &addr[..n])?;
    }
    if len_out != 0 {
        m.write_u32(len_out, addr.len() as u32)?;
    }
    Ok(())
}

fn unit(c: &mut C<'_>, call: Syscall) -> AbiResult<()> {
    let (_, ctx) = split(c)?;
    ctx.call(call)?;
    Ok(())
}

pub fn add(l: &mut Linker<GuestCtx>) -> wasmtime::Result<()> {
    l.func_wrap(N, "socket", |mut c: C<'_>, domain: i32, ty: i32, protocol: i32, out: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            m.slice(out, 4)?;
            let fd = expect_ret!(ctx.call(Syscall::Socket { domain, ty, protocol })?, Ret::Fd(fd) => fd);
            m.write_u32(out, fd as u32)?;
            Ok(())
        })
    })?;
    l.func_wrap(
        N,
        "socketpair",
        |mut c: C<'_>, domain: i32, ty: i32, protocol: i32, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(out, 8)?;
                let call = Syscall::SocketPair {
                    domain,
                    ty,
                    protocol,
                };
                let (a, b) = expect_ret!(ctx.call(call)?, Ret::Fds(a, b) => (a, b));
                m.write_u32(out, a as u32)?;
                m.write_u32(out + 4, b as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(N, "bind", |mut c: C<'_>, fd: i32, addr: u32, len: u32| {
        run(&mut c, |c| {
            let (m, ctx) = split(c)?;
            let addr = m.copy_in(addr, len)?;
            ctx.call(Syscall::Bind { fd, addr })?;
            Ok(())
        })
    })?;
    l.func_wrap(N, "listen", |mut c: C<'_>, fd: i32, backlog: i32| {
        run(&mut c, |c| unit(c, Syscall::Listen { fd, backlog }))
    })?;
    l.func_wrap(
        N,
        "accept4",
        |mut c: C<'_>, fd: i32, flags: u32, addr: u32, cap: u32, len_out: u32, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(out, 4)?;
                m.slice(addr, cap)?;
                if len_out != 0 {
                    m.slice(len_out, 4)?;
                }
                let (fd, peer) =
                    expect_ret!(ctx.call(Syscall::Accept { fd, flags })?, Ret::Accepted { fd, addr } => (fd, addr));
                put_addr(&mut m, &peer, addr, cap, len_out)?;
                m.write_u32(out, fd as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        N,
        "connect",
        |mut c: C<'_>, fd: i32, addr: u32, len: u32| {
            run(&mut c, |c| {
                let (m, ctx) = split(c)?;
                let addr = m.copy_in(addr, len)?;
                ctx.call(Syscall::Connect { fd, addr })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        N,
        "sendmsg",
        |mut c: C<'_>,
         fd: i32,
         iovs: u32,
         niovs: u32,
         fdsp: u32,
         nfds: u32,
         flags: u32,
         addr: u32,
         alen: u32,
         out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(out, 4)?;
                let iovs = m.msg_iovecs(iovs, niovs)?;
                let data = m.gather(&iovs)?;
                let raw = m.slice(fdsp, nfds.checked_mul(4).ok_or(Errno::EFAULT)?)?;
                let fds = raw
                    .chunks_exact(4)
                    .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
                    .collect();
                let addr = if addr == 0 {
                    None
                } else {
                    Some(m.copy_in(addr, alen)?)
                };
                let call = Syscall::SendMsg {
                    fd,
                    data,
                    fds,
                    flags,
                    addr,
                    done: 0,
                };
                let n = expect_ret!(ctx.call(call)?, Ret::Size(n) => n);
                m.write_u32(out, n as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        N,
        "recvmsg",
        |mut c: C<'_>,
         fd: i32,
         iovs: u32,
         niovs: u32,
         fdsp: u32,
         fds_cap: u32,
         flags: u32,
         addr: u32,
         acap: u32,
         result: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(result, 16)?;
                m.slice(fdsp, fds_cap.checked_mul(4).ok_or(Errno::EFAULT)?)?;
                m.slice(addr, acap)?;
                let iovs = m.msg_iovecs(iovs, niovs)?;
                let len = iov_total(&iovs).min(MAX_IO);
                let call = Syscall::RecvMsg {
                    fd,
                    len,
                    flags,
                    fds_cap: fds_cap as usize,
                    acc: None,
                };
                let (len, data, fds, from, mflags) = expect_ret!(ctx.call(call)?,
                    Ret::Received { len, data, fds, addr, flags } => (len, data, fds, addr, flags));
                m.scatter(&iovs, &data)?;
                let n = len;
                for (i, fd) in fds.iter().enumerate() {
                    m.write_u32(fdsp + 4 * i as u32, *fd as u32)?;
                }
                let alen = if addr != 0 {
                    from.len().min(acap as usize)
                } else {
                    0
                };
                if alen > 0 {
                    m.copy_out(addr, &from[..alen])?;
                }
                m.write_u32(result, n as u32)?;
                m.write_u32(result + 4, fds.len() as u32)?;
                m.write_u32(result + 8, from.len() as u32)?;
                m.write_u32(result + 12, mflags)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(N, "shutdown", |mut c: C<'_>, fd: i32, how: i32| {
        run(&mut c, |c| unit(c, Syscall::Shutdown { fd, how }))
    })?;
    for (name, peer) in [("getsockname", false), ("getpeername", true)] {
        l.func_wrap(
            N,
            name,
            move |mut c: C<'_>, fd: i32, addr: u32, cap: u32, len_out: u32| {
                run(&mut c, |c| {
                    let (mut m, ctx) = split(c)?;
                    m.slice(addr, cap)?;
                    m.slice(len_out, 4)?;
                    let raw =
                        expect_ret!(ctx.call(Syscall::SockName { fd, peer })?, Ret::Bytes(b) => b);
                    put_addr(&mut m, &raw, addr, cap, len_out)
                })
            },
        )?;
    }
    l.func_wrap(
        N,
        "getsockopt",
        |mut c: C<'_>, fd: i32, level: i32, name: i32, val: u32, cap: u32, len_out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(val, cap)?;
                m.slice(len_out, 4)?;
                let opt = expect_ret!(ctx.call(Syscall::GetSockOpt { fd, level, name })?, Ret::SockOpt(o) => o);
                let bytes: Vec<u8> = match opt {
                    SockOpt::Int(v) => v.to_le_bytes().to_vec(),
                    SockOpt::Error(e) => i32::from(e.map(super::errno::to_wasi).unwrap_or(0)).to_le_bytes().to_vec(),
                    SockOpt::Cred { pid, uid, gid } => {
                        [pid.to_le_bytes(), uid.to_le_bytes(), gid.to_le_bytes()].concat()
                    }
                };
                let n = bytes.len().min(cap as usize);
                m.copy_out(val, &bytes[..n])?;
                m.write_u32(len_out, n as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        N,
        "setsockopt",
        |mut c: C<'_>, fd: i32, level: i32, name: i32, val: u32, len: u32| {
            run(&mut c, |c| {
                let (m, ctx) = split(c)?;
                let value = m.copy_in(val, len)?;
                ctx.call(Syscall::SetSockOpt {
                    fd,
                    level,
                    name,
                    value,
                })?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(N, "poll", |mut c: C<'_>, fds: u32, nfds: u32, timeout: i32, out: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            m.slice(out, 4)?;
            let raw = m.copy_in(fds, nfds.checked_mul(8).ok_or(Errno::EFAULT)?)?;
            let list: Vec<(i32, u16)> = raw
                .chunks_exact(8)
                .map(|p| (i32::from_le_bytes(p[0..4].try_into().unwrap()), u16::from_le_bytes([p[4], p[5]])))
                .collect();
            let deadline = (timeout >= 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
            let revents = expect_ret!(ctx.call(Syscall::PollFds { fds: list, deadline })?, Ret::Revents(r) => r);
            let mut ready = 0;
            for (i, r) in revents.iter().enumerate() {
                m.write_u16(fds + 8 * i as u32 + 6, *r)?;
                ready += u32::from(*r != 0);
            }
            m.write_u32(out, ready)?;
            Ok(())
        })
    })?;
    Ok(())
}
