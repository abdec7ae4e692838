//! Terminal attributes: `struct termios` and `struct winsize` as Linux
//! userspace sees them, with every flag and control-character index at its
//! Linux value.
//!
//! The byte layouts are the ones the ioctl ABI passes (`TCGETS`/`TCSETS*`,
//! `TIOCGWINSZ`/`TIOCSWINSZ`): the 60-byte glibc/musl `struct termios`
//! (`NCCS` = 32, trailing speed words) and the 8-byte `struct winsize`, both
//! little-endian.

// c_iflag: input modes.
pub const IGNBRK: u32 = 0o000001;
pub const BRKINT: u32 = 0o000002;
pub const IGNPAR: u32 = 0o000004;
pub const PARMRK: u32 = 0o000010;
pub const INPCK: u32 = 0o000020;
pub const ISTRIP: u32 = 0o000040;
pub const INLCR: u32 = 0o000100;
pub const IGNCR: u32 = 0o000200;
pub const ICRNL: u32 = 0o000400;
pub const IUCLC: u32 = 0o001000;
pub const IXON: u32 = 0o002000;
pub const IXANY: u32 = 0o004000;
pub const IXOFF: u32 = 0o010000;
pub const IMAXBEL: u32 = 0o020000;
pub const IUTF8: u32 = 0o040000;

// c_oflag: output modes.
pub const OPOST: u32 = 0o000001;
pub const OLCUC: u32 = 0o000002;
pub const ONLCR: u32 = 0o000004;
pub const OCRNL: u32 = 0o000010;
pub const ONOCR: u32 = 0o000020;
pub const ONLRET: u32 = 0o000040;
pub const OFILL: u32 = 0o000100;
pub const OFDEL: u32 = 0o000200;
pub const NLDLY: u32 = 0o000400;
pub const NL0: u32 = 0o000000;
pub const NL1: u32 = 0o000400;
pub const CRDLY: u32 = 0o003000;
pub const CR0: u32 = 0o000000;
pub const CR1: u32 = 0o001000;
pub const CR2: u32 = 0o002000;
pub const CR3: u32 = 0o003000;
pub const TABDLY: u32 = 0o014000;
pub const TAB0: u32 = 0o000000;
pub const TAB1: u32 = 0o004000;
pub const TAB2: u32 = 0o010000;
pub const TAB3: u32 = 0o014000;
/// Expand tabs to spaces; Linux's name for `TAB3`.
pub const XTABS: u32 = 0o014000;
pub const BSDLY: u32 = 0o020000;
pub const BS0: u32 = 0o000000;
pub const BS1: u32 = 0o020000;
pub const VTDLY: u32 = 0o040000;
pub const VT0: u32 = 0o000000;
pub const VT1: u32 = 0o040000;
pub const FFDLY: u32 = 0o100000;
pub const FF0: u32 = 0o000000;
pub const FF1: u32 = 0o100000;

// c_cflag: control modes.
pub const CBAUD: u32 = 0o010017;
pub const B0: u32 = 0o000000;
pub const B50: u32 = 0o000001;
pub const B75: u32 = 0o000002;
pub const B110: u32 = 0o000003;
pub const B134: u32 = 0o000004;
pub const B150: u32 = 0o000005;
pub const B200: u32 = 0o000006;
pub const B300: u32 = 0o000007;
pub const B600: u32 = 0o000010;
pub const B1200: u32 = 0o000011;
pub const B1800: u32 = 0o000012;
pub const B2400: u32 = 0o000013;
pub const B4800: u32 = 0o000014;
pub const B9600: u32 = 0o000015;
pub const B19200: u32 = 0o000016;
pub const B38400: u32 = 0o000017;
pub const EXTA: u32 = B19200;
pub const EXTB: u32 = B38400;
pub const CSIZE: u32 = 0o000060;
pub const CS5: u32 = 0o000000;
pub const CS6: u32 = 0o000020;
pub const CS7: u32 = 0o000040;
pub const CS8: u32 = 0o000060;
pub const CSTOPB: u32 = 0o000100;
pub const CREAD: u32 = 0o000200;
pub const PARENB: u32 = 0o000400;
pub const PARODD: u32 = 0o001000;
pub const HUPCL: u32 = 0o002000;
pub const CLOCAL: u32 = 0o004000;
pub const CBAUDEX: u32 = 0o010000;
pub const BOTHER: u32 = 0o010000;
pub const B57600: u32 = 0o010001;
pub const B115200: u32 = 0o010002;
pub const B230400: u32 = 0o010003;
pub const B460800: u32 = 0o010004;
pub const B500000: u32 = 0o010005;
pub const B576000: u32 = 0o010006;
pub const B921600: u32 = 0o010007;
pub const B1000000: u32 = 0o010010;
pub const B1152000: u32 = 0o010011;
pub const B1500000: u32 = 0o010012;
pub const B2000000: u32 = 0o010013;
pub const B2500000: u32 = 0o010014;
pub const B3000000: u32 = 0o010015;
pub const B3500000: u32 = 0o010016;
pub const B4000000: u32 = 0o010017;
/// Input baud rate bits (the `CBAUD` field shifted by `IBSHIFT`).
pub const CIBAUD: u32 = 0o02003600000;
pub const IBSHIFT: u32 = 16;
pub const CMSPAR: u32 = 0o10000000000;
pub const CRTSCTS: u32 = 0o20000000000;

// c_lflag: local modes.
pub const ISIG: u32 = 0o000001;
pub const ICANON: u32 = 0o000002;
pub const XCASE: u32 = 0o000004;
pub const ECHO: u32 = 0o000010;
pub const ECHOE: u32 = 0o000020;
pub const ECHOK: u32 = 0o000040;
pub const ECHONL: u32 = 0o000100;
pub const NOFLSH: u32 = 0o000200;
pub const TOSTOP: u32 = 0o000400;
pub const ECHOCTL: u32 = 0o001000;
pub const ECHOPRT: u32 = 0o002000;
pub const ECHOKE: u32 = 0o004000;
pub const FLUSHO: u32 = 0o010000;
pub const PENDIN: u32 = 0o040000;
pub const IEXTEN: u32 = 0o100000;
pub const EXTPROC: u32 = 0o200000;

// c_cc indices.
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSWTC: usize = 7;
pub const VSTART: usize = 8;
pub const VSTOP: usize = 9;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VDISCARD: usize = 13;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;

/// Length of `c_cc` in the userspace struct (the kernel's own has 19).
pub const NCCS: usize = 32;
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
    pub const SIZE: usize = 60;

    const OFF_LINE: usize = 16;
    const OFF_CC: usize = 17;
    const OFF_ISPEED: usize = 52;
    const OFF_OSPEED: usize = 56;

    /// Serializes to the userspace layout; the 3 padding bytes after `c_cc`
    /// are zero.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..4].copy_from_slice(&self.c_iflag.to_le_bytes());
        b[4..8].copy_from_slice(&self.c_oflag.to_le_bytes());
        b[8..12].copy_from_slice(&self.c_cflag.to_le_bytes());
        b[12..16].copy_from_slice(&self.c_lflag.to_le_bytes());
        b[Self::OFF_LINE] = self.c_line;
        b[Self::OFF_CC..Self::OFF_CC + NCCS].copy_from_slice(&self.c_cc);
        b[Self::OFF_ISPEED..Self::OFF_ISPEED + 4].copy_from_slice(&self.c_ispeed.to_le_bytes());
        b[Self::OFF_OSPEED..Self::OFF_OSPEED + 4].copy_from_slice(&self.c_ospeed.to_le_bytes());
        b
    }

    /// Parses the userspace layout; padding is ignored.
    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Termios {
        let word = |off: usize| u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]);
        let mut c_cc = [0u8; NCCS];
        c_cc.copy_from_slice(&b[Self::OFF_CC..Self::OFF_CC + NCCS]);
        Termios {
            c_iflag: word(0),
            c_oflag: word(4),
            c_cflag: word(8),
            c_lflag: word(12),
            c_line: b[Self::OFF_LINE],
            c_cc,
            c_ispeed: word(Self::OFF_ISPEED),
            c_ospeed: word(Self::OFF_OSPEED),
        }
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
    pub const SIZE: usize = 8;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..2].copy_from_slice(&self.rows.to_le_bytes());
        b[2..4].copy_from_slice(&self.cols.to_le_bytes());
        b[4..6].copy_from_slice(&self.xpixel.to_le_bytes());
        b[6..8].copy_from_slice(&self.ypixel.to_le_bytes());
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Winsize {
        let half = |off: usize| u16::from_le_bytes([b[off], b[off + 1]]);
        Winsize {
            rows: half(0),
            cols: half(2),
            xpixel: half(4),
            ypixel: half(6),
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
