//! Terminal attributes: `struct termios` and `struct winsize` as Linux
//! userspace sees them, with every flag and control-character index at its
//! Linux value.
//!
//! The constants and the byte layouts are `sidecar_abi`'s. The layouts are
//! the ones the ioctl ABI passes (`TCGETS`/`TCSETS*`,
//! `TIOCGWINSZ`/`TIOCSWINSZ`): the 60-byte glibc/musl `struct termios`
//! (`NCCS` = 32, trailing speed words) and the 8-byte `struct winsize`, both
//! little-endian, encoded field by field as `sidecar_abi::records` lays them
//! out.

use sidecar_abi::records as abi;
use sidecar_abi::Record;

// Every flag, field, baud code and `c_cc` index, as the ABI defines them.
pub use sidecar_abi::consts::termios_cc::{
    NCCS, VDISCARD, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT, VMIN, VQUIT, VREPRINT, VSTART,
    VSTOP, VSUSP, VSWTC, VTIME, VWERASE,
};
pub use sidecar_abi::consts::termios_cflag::{
    B0, B1000000, B110, B115200, B1152000, B1200, B134, B150, B1500000, B1800, B19200, B200,
    B2000000, B230400, B2400, B2500000, B300, B3000000, B3500000, B38400, B4000000, B460800, B4800,
    B50, B500000, B57600, B576000, B600, B75, B921600, B9600, BOTHER, CBAUD, CBAUDEX, CIBAUD,
    CLOCAL, CMSPAR, CREAD, CRTSCTS, CS5, CS6, CS7, CS8, CSIZE, CSTOPB, EXTA, EXTB, HUPCL, IBSHIFT,
    PARENB, PARODD,
};
pub use sidecar_abi::consts::termios_iflag::{
    BRKINT, ICRNL, IGNBRK, IGNCR, IGNPAR, IMAXBEL, INLCR, INPCK, ISTRIP, IUCLC, IUTF8, IXANY,
    IXOFF, IXON, PARMRK,
};
pub use sidecar_abi::consts::termios_lflag::{
    ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, ECHOPRT, EXTPROC, FLUSHO, ICANON, IEXTEN, ISIG,
    NOFLSH, PENDIN, TOSTOP, XCASE,
};
pub use sidecar_abi::consts::termios_oflag::{
    BS0, BS1, BSDLY, CR0, CR1, CR2, CR3, CRDLY, FF0, FF1, FFDLY, NL0, NL1, NLDLY, OCRNL, OFDEL,
    OFILL, OLCUC, ONLCR, ONLRET, ONOCR, OPOST, TAB0, TAB1, TAB2, TAB3, TABDLY, VT0, VT1, VTDLY,
    XTABS,
};

/// A `c_cc` slot holding this value is disabled (Linux `_POSIX_VDISABLE`).
pub const POSIX_VDISABLE: u8 = 0;

/// The control character for `c` typed with Ctrl held.
const fn ctrl(c: u8) -> u8 {
    c & 0x1f
}

/// `struct termios` as libc exposes it.
///
/// Speeds are numeric rates (38400, not the `B38400` code), as the kernel's
/// `ktermios`/`termios2` hold them; the authoritative rate for `cfget*speed`
/// is the `CBAUD` field of `c_cflag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; NCCS],
    pub c_ispeed: u32,
    pub c_ospeed: u32,
}

impl Termios {
    /// Size of the userspace layout in bytes.
    pub const SIZE: usize = abi::Termios::SIZE;

    /// Serializes to the userspace layout; the 3 padding bytes after `c_cc`
    /// are zero.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        abi::Termios::from(*self).encode_into(&mut b);
        b
    }

    /// Parses the userspace layout; padding is ignored.
    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Termios {
        abi::Termios::decode(b)
            .expect("a whole struct termios")
            .into()
    }

    /// Whether any of `bits` is set in `c_iflag`.
    pub fn iflag(&self, bits: u32) -> bool {
        self.c_iflag & bits != 0
    }

    /// Whether any of `bits` is set in `c_oflag`.
    pub fn oflag(&self, bits: u32) -> bool {
        self.c_oflag & bits != 0
    }

    /// Whether any of `bits` is set in `c_cflag`.
    pub fn cflag(&self, bits: u32) -> bool {
        self.c_cflag & bits != 0
    }

    /// Whether any of `bits` is set in `c_lflag`.
    pub fn lflag(&self, bits: u32) -> bool {
        self.c_lflag & bits != 0
    }

    /// Whether `c` is the (enabled) control character at `c_cc[index]`.
    pub fn is_cc(&self, c: u8, index: usize) -> bool {
        c != POSIX_VDISABLE && self.c_cc[index] == c
    }
}

impl Default for Termios {
    /// What a freshly opened Linux pty slave reports: `tty_std_termios` with
    /// the pts driver's `c_cflag` override (so no `HUPCL`, and no `IUTF8`,
    /// which login tools set rather than the kernel).
    fn default() -> Termios {
        let mut c_cc = [0u8; NCCS];
        c_cc[VINTR] = ctrl(b'C');
        c_cc[VQUIT] = ctrl(b'\\');
        c_cc[VERASE] = 0x7f;
        c_cc[VKILL] = ctrl(b'U');
        c_cc[VEOF] = ctrl(b'D');
        c_cc[VTIME] = 0;
        c_cc[VMIN] = 1;
        c_cc[VSWTC] = 0;
        c_cc[VSTART] = ctrl(b'Q');
        c_cc[VSTOP] = ctrl(b'S');
        c_cc[VSUSP] = ctrl(b'Z');
        c_cc[VEOL] = 0;
        c_cc[VREPRINT] = ctrl(b'R');
        c_cc[VDISCARD] = ctrl(b'O');
        c_cc[VWERASE] = ctrl(b'W');
        c_cc[VLNEXT] = ctrl(b'V');
        c_cc[VEOL2] = 0;
        Termios {
            c_iflag: ICRNL | IXON,
            c_oflag: OPOST | ONLCR,
            c_cflag: B38400 | CS8 | CREAD,
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            c_line: 0,
            c_cc,
            c_ispeed: 38400,
            c_ospeed: 38400,
        }
    }
}

impl From<Termios> for abi::Termios {
    fn from(t: Termios) -> abi::Termios {
        abi::Termios {
            c_iflag: t.c_iflag,
            c_oflag: t.c_oflag,
            c_cflag: t.c_cflag,
            c_lflag: t.c_lflag,
            c_line: t.c_line,
            c_cc: t.c_cc,
            c_ispeed: t.c_ispeed,
            c_ospeed: t.c_ospeed,
        }
    }
}

impl From<abi::Termios> for Termios {
    fn from(t: abi::Termios) -> Termios {
        Termios {
            c_iflag: t.c_iflag,
            c_oflag: t.c_oflag,
            c_cflag: t.c_cflag,
            c_lflag: t.c_lflag,
            c_line: t.c_line,
            c_cc: t.c_cc,
            c_ispeed: t.c_ispeed,
            c_ospeed: t.c_ospeed,
        }
    }
}

/// `struct winsize`: the terminal size in characters and pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Winsize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

impl Winsize {
    /// Size of the userspace layout in bytes.
    pub const SIZE: usize = abi::Winsize::SIZE;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        abi::Winsize::from(*self).encode_into(&mut b);
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Winsize {
        abi::Winsize::decode(b)
            .expect("a whole struct winsize")
            .into()
    }
}

impl From<Winsize> for abi::Winsize {
    fn from(w: Winsize) -> abi::Winsize {
        abi::Winsize {
            ws_row: w.rows,
            ws_col: w.cols,
            ws_xpixel: w.xpixel,
            ws_ypixel: w.ypixel,
        }
    }
}

impl From<abi::Winsize> for Winsize {
    fn from(w: abi::Winsize) -> Winsize {
        Winsize {
            rows: w.ws_row,
            cols: w.ws_col,
            xpixel: w.ws_xpixel,
            ypixel: w.ws_ypixel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termios_layout_offsets() {
        let t = Termios {
            c_iflag: 0x0403_0201,
            c_oflag: 0x0807_0605,
            c_cflag: 0x0c0b_0a09,
            c_lflag: 0x100f_0e0d,
            c_line: 0xaa,
            c_cc: std::array::from_fn(|i| 0x40 + i as u8),
            c_ispeed: 0x1112_1314,
            c_ospeed: 0x2122_2324,
        };
        let b = t.to_bytes();
        assert_eq!(&b[0..4], &[1, 2, 3, 4]);
        assert_eq!(&b[12..16], &[0x0d, 0x0e, 0x0f, 0x10]);
        assert_eq!(b[16], 0xaa);
        assert_eq!(b[17], 0x40);
        assert_eq!(b[48], 0x40 + 31);
        assert_eq!(&b[49..52], &[0, 0, 0]);
        assert_eq!(&b[52..56], &[0x14, 0x13, 0x12, 0x11]);
        assert_eq!(&b[56..60], &[0x24, 0x23, 0x22, 0x21]);
        assert_eq!(Termios::from_bytes(&b), t);
    }

    #[test]
    fn default_matches_linux_pts() {
        let t = Termios::default();
        assert_eq!(t.c_iflag, 0o002400);
        assert_eq!(t.c_oflag, 0o000005);
        assert_eq!(t.c_cflag, 0o000277);
        assert_eq!(t.c_lflag, 0o105073);
        assert_eq!(
            &t.c_cc[..17],
            &[3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0]
        );
        assert!(t.c_cc[17..].iter().all(|&c| c == 0));
        assert!(t.is_cc(3, VINTR));
        assert!(!t.is_cc(0, VEOL), "a zero slot is disabled, not NUL");
    }

    #[test]
    fn winsize_layout() {
        let w = Winsize {
            rows: 24,
            cols: 80,
            xpixel: 0x0102,
            ypixel: 0x0304,
        };
        let b = w.to_bytes();
        assert_eq!(b, [24, 0, 80, 0, 2, 1, 4, 3]);
        assert_eq!(Winsize::from_bytes(&b), w);
    }
}
