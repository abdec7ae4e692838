//! `host_net`: AF_UNIX sockets and Linux `poll` (see SPEC.md). The
//! functions and their records come from the `sidecar-abi` crate.

// Import functions take the parameters the ABI gives them.
#![allow(clippy::too_many_arguments)]

use std::time::{Duration, Instant};

use sidecar_abi::records::{FdPair, PollFd, RecvResult, Ucred};
use sidecar_abi::{Module, NetFn, Record};
use sidecar_kernel::syscall::SockOpt;
use sidecar_kernel::{Errno, Ret, Syscall};
use wasmtime::{Caller, Linker};

use super::mem::{iov_total, GuestMem};
use super::{expect_ret, run, split};
use crate::guest::{AbiResult, GuestCtx};

const N: &str = Module::HostNet.name();

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

/// Defines every `host_net` function of the ABI crate.
pub fn add(l: &mut Linker<GuestCtx>) -> wasmtime::Result<()> {
    for &f in NetFn::ALL {
        define(l, f)?;
    }
    Ok(())
}

/// Defines one function. The match is exhaustive: a function added to the
/// ABI crate must be served here before the runtime compiles.
fn define(l: &mut Linker<GuestCtx>, f: NetFn) -> wasmtime::Result<()> {
    let name = f.name();
    match f {
        NetFn::Socket => l.func_wrap(N, name, socket),
        NetFn::SocketPair => l.func_wrap(N, name, socketpair),
        NetFn::Bind => l.func_wrap(N, name, bind),
        NetFn::Listen => l.func_wrap(N, name, listen),
        NetFn::Accept4 => l.func_wrap(N, name, accept4),
        NetFn::Connect => l.func_wrap(N, name, connect),
        NetFn::SendMsg => l.func_wrap(N, name, sendmsg),
        NetFn::RecvMsg => l.func_wrap(N, name, recvmsg),
        NetFn::Shutdown => l.func_wrap(N, name, shutdown),
        NetFn::GetSockName => l.func_wrap(N, name, getsockname),
        NetFn::GetPeerName => l.func_wrap(N, name, getpeername),
        NetFn::GetSockOpt => l.func_wrap(N, name, getsockopt),
        NetFn::SetSockOpt => l.func_wrap(N, name, setsockopt),
        NetFn::Poll => l.func_wrap(N, name, poll),
    }?;
    Ok(())
}

fn socket(mut c: C<'_>, domain: i32, ty: i32, protocol: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        let fd =
            expect_ret!(ctx.call(Syscall::Socket { domain, ty, protocol })?, Ret::Fd(fd) => fd);
        m.write_u32(out, fd as u32)?;
        Ok(())
    })
}

fn socketpair(
    mut c: C<'_>,
    domain: i32,
    ty: i32,
    protocol: i32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.check_record::<FdPair>(out)?;
        let call = Syscall::SocketPair {
            domain,
            ty,
            protocol,
        };
        let (a, b) = expect_ret!(ctx.call(call)?, Ret::Fds(a, b) => (a, b));
        m.write_record(out, &FdPair { fds: [a, b] })?;
        Ok(())
    })
}

fn bind(mut c: C<'_>, fd: i32, addr: u32, len: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let addr = m.copy_in(addr, len)?;
        ctx.call(Syscall::Bind { fd, addr })?;
        Ok(())
    })
}

fn listen(mut c: C<'_>, fd: i32, backlog: i32) -> wasmtime::Result<i32> {
    run(&mut c, |c| unit(c, Syscall::Listen { fd, backlog }))
}

fn accept4(
    mut c: C<'_>,
    fd: i32,
    flags: u32,
    addr: u32,
    cap: u32,
    len_out: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        m.slice(addr, cap)?;
        if len_out != 0 {
            m.slice(len_out, 4)?;
        }
        let (fd, peer) = expect_ret!(ctx.call(Syscall::Accept { fd, flags })?, Ret::Accepted { fd, addr } => (fd, addr));
        put_addr(&mut m, &peer, addr, cap, len_out)?;
        m.write_u32(out, fd as u32)?;
        Ok(())
    })
}

fn connect(mut c: C<'_>, fd: i32, addr: u32, len: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (m, ctx) = split(c)?;
        let addr = m.copy_in(addr, len)?;
        ctx.call(Syscall::Connect { fd, addr })?;
        Ok(())
    })
}

fn sendmsg(
    mut c: C<'_>,
    fd: i32,
    iovs: u32,
    niovs: u32,
    fdsp: u32,
    nfds: u32,
    flags: u32,
    addr: u32,
    alen: u32,
    out: u32,
) -> wasmtime::Result<i32> {
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
}

fn recvmsg(
    mut c: C<'_>,
    fd: i32,
    iovs: u32,
    niovs: u32,
    fdsp: u32,
    fds_cap: u32,
    flags: u32,
    addr: u32,
    acap: u32,
    result: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.check_record::<RecvResult>(result)?;
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
        let r = RecvResult {
            bytes: len as u32,
            nfds: fds.len() as u32,
            addr_len: from.len() as u32,
            msg_flags: mflags,
        };
        m.write_record(result, &r)?;
        Ok(())
    })
}

fn shutdown(mut c: C<'_>, fd: i32, how: i32) -> wasmtime::Result<i32> {
    run(&mut c, |c| unit(c, Syscall::Shutdown { fd, how }))
}

fn getsockname(mut c: C<'_>, fd: i32, addr: u32, cap: u32, len_out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| sock_name(c, fd, false, addr, cap, len_out))
}

fn getpeername(mut c: C<'_>, fd: i32, addr: u32, cap: u32, len_out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| sock_name(c, fd, true, addr, cap, len_out))
}

/// The socket's own address, or its peer's.
fn sock_name(
    c: &mut C<'_>,
    fd: i32,
    peer: bool,
    addr: u32,
    cap: u32,
    len_out: u32,
) -> AbiResult<()> {
    let (mut m, ctx) = split(c)?;
    m.slice(addr, cap)?;
    m.slice(len_out, 4)?;
    let raw = expect_ret!(ctx.call(Syscall::SockName { fd, peer })?, Ret::Bytes(b) => b);
    put_addr(&mut m, &raw, addr, cap, len_out)
}

fn getsockopt(
    mut c: C<'_>,
    fd: i32,
    level: i32,
    name: i32,
    val: u32,
    cap: u32,
    len_out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(val, cap)?;
        m.slice(len_out, 4)?;
        let opt =
            expect_ret!(ctx.call(Syscall::GetSockOpt { fd, level, name })?, Ret::SockOpt(o) => o);
        let bytes: Vec<u8> = match opt {
            SockOpt::Int(v) => v.to_le_bytes().to_vec(),
            SockOpt::Error(e) => i32::from(e.map(super::errno::to_wasi).unwrap_or(0))
                .to_le_bytes()
                .to_vec(),
            SockOpt::Cred { pid, uid, gid } => Ucred { pid, uid, gid }.encode(),
        };
        let n = bytes.len().min(cap as usize);
        m.copy_out(val, &bytes[..n])?;
        m.write_u32(len_out, n as u32)?;
        Ok(())
    })
}

fn setsockopt(
    mut c: C<'_>,
    fd: i32,
    level: i32,
    name: i32,
    val: u32,
    len: u32,
) -> wasmtime::Result<i32> {
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
}

fn poll(mut c: C<'_>, fds: u32, nfds: u32, timeout: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        let pfds: Vec<PollFd> = m.read_records(fds, nfds)?;
        let list = pfds.iter().map(|p| (p.fd, p.events as u16)).collect();
        let deadline =
            (timeout >= 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
        let revents =
            expect_ret!(ctx.call(Syscall::PollFds { fds: list, deadline })?, Ret::Revents(r) => r);
        let mut ready = 0;
        for (i, (p, r)) in pfds.iter().zip(&revents).enumerate() {
            let p = PollFd {
                revents: *r as i16,
                ..*p
            };
            m.write_record(fds + (i * PollFd::SIZE) as u32, &p)?;
            ready += u32::from(*r != 0);
        }
        m.write_u32(out, ready)?;
        Ok(())
    })
}
