//! `ioctl(2)`: the fd-generic requests, then the terminal ones.

use sidecar_abi::consts::ioctl_request::{
    FIONBIO, FIONREAD, TCFLSH, TCGETS, TCSBRK, TCSETS, TCSETSF, TCSETSW, TCXONC, TIOCGPGRP,
    TIOCGPTLCK, TIOCGPTN, TIOCGSID, TIOCGWINSZ, TIOCNOTTY, TIOCOUTQ, TIOCSCTTY, TIOCSPGRP,
    TIOCSPTLCK, TIOCSWINSZ,
};
use sidecar_abi::consts::tty_arg::{TCIFLUSH, TCOFLUSH};
use sidecar_abi::IoctlRequest;

use super::Kernel;
use crate::errno::{Errno, KResult};
use crate::file::status;
use crate::process::Pid;
use crate::pty::device::{PtyMaster, PtySlave};
use crate::pty::termios::{Termios, Winsize};
use crate::signal;
use crate::syscall::{ready, Outcome, Ret};

/// Requests that change the terminal, refused from the background
/// (Linux's `tty_check_change`).
const CHANGES: [IoctlRequest; 6] = [TCSETS, TCSETSW, TCSETSF, TCXONC, TCFLSH, TIOCSPGRP];

impl Kernel {
    pub(super) fn ioctl(
        &mut self,
        pid: Pid,
        fd: i32,
        request: u32,
        arg: i32,
        data: &[u8],
    ) -> Outcome {
        if CHANGES.contains(&IoctlRequest(request)) {
            let slave = self.file(pid, fd).ok().and_then(|f| {
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
            self.do_ioctl(pid, fd, request, arg, data),
            |(value, data)| Ret::Ioctl { value, data },
        )
    }

    fn do_ioctl(
        &mut self,
        pid: Pid,
        fd: i32,
        request: u32,
        arg: i32,
        data: &[u8],
    ) -> KResult<(i32, Vec<u8>)> {
        let int_in = || -> KResult<i32> {
            let b: [u8; 4] = data
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Errno::EFAULT)?;
            Ok(i32::from_le_bytes(b))
        };
        let int_out = |v: i32| Ok((0, v.to_le_bytes().to_vec()));
        let request = IoctlRequest(request);
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
        let is_master = f.desc.as_any().is::<PtyMaster>();
        // Every ioctl on a hung-up terminal fails (Linux's hung_up_tty_ioctl).
        if !is_master && pty.hung_up() {
            return Err(Errno::EIO);
        }
        let me = self.procs.get(pid).unwrap();
        let is_ctty = me.has_ctty(&pty);
        let (my_sid, my_pgid) = (me.sid(), me.pgid());
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
                if !self.procs.iter().any(|p| p.pgid() == pgrp) {
                    return Err(Errno::ESRCH);
                }
                if !self
                    .procs
                    .iter()
                    .any(|p| p.pgid() == pgrp && p.sid() == my_sid)
                {
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
                if me.sid() != pid || me.ctty().is_some() || pty.session().is_some() {
                    return Err(Errno::EPERM);
                }
                pty.attach(pid, my_pgid);
                self.procs.get_mut(pid).unwrap().set_ctty(pty);
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
                    self.procs.get_mut(pid).unwrap().take_ctty();
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
                    (true, TCIFLUSH) => TCOFLUSH,
                    (true, TCOFLUSH) => TCIFLUSH,
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
}
