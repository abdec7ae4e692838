//! Records that cross guest memory, as `#[repr(C)]` structs.
//!
//! Every record is little-endian and laid out as C lays out the same struct
//! on wasm32 (natural alignment, `uint64_t` aligned to 8); the generated
//! header declares each one and `_Static_assert`s its size and every field
//! offset, so the C compiler checks the Rust layout. [`Record::decode`] and
//! [`Record::encode`] read and write them field by field at their
//! `offset_of!` offsets.

use std::mem::{offset_of, size_of};

/// A field type: how it is stored and how C declares it.
pub trait Field: Copy {
    /// The C declaration of a field called `name`.
    fn c_decl(name: &str) -> String;
    /// Reads it from the start of `b` (little-endian).
    fn get(b: &[u8]) -> Self;
    /// Writes it to the start of `b` (little-endian).
    fn put(self, b: &mut [u8]);
}

macro_rules! scalar {
    ($($t:ty => $c:literal),*) => {$(
        impl Field for $t {
            fn c_decl(name: &str) -> String {
                format!("{} {name}", $c)
            }
            fn get(b: &[u8]) -> Self {
                <$t>::from_le_bytes(b[..size_of::<$t>()].try_into().unwrap())
            }
            fn put(self, b: &mut [u8]) {
                b[..size_of::<$t>()].copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
scalar!(u8 => "uint8_t", i16 => "int16_t", u16 => "uint16_t", i32 => "int32_t",
        u32 => "uint32_t", i64 => "int64_t", u64 => "uint64_t");

impl<T: Field, const N: usize> Field for [T; N] {
    fn c_decl(name: &str) -> String {
        format!("{}[{N}]", T::c_decl(name))
    }
    fn get(b: &[u8]) -> Self {
        std::array::from_fn(|i| T::get(&b[i * size_of::<T>()..]))
    }
    fn put(self, b: &mut [u8]) {
        for (i, v) in self.into_iter().enumerate() {
            v.put(&mut b[i * size_of::<T>()..]);
        }
    }
}

/// One field of a record, for the generator and the tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: &'static str,
    /// `uint32_t op`, `uint8_t sun_path[108]`.
    pub c_decl: String,
    pub offset: usize,
    pub size: usize,
    pub doc: &'static str,
    /// The field's name in the public C type the record mirrors, if that
    /// differs (`struct termios` calls `c_ispeed` `__c_ispeed`).
    pub public_name: Option<&'static str>,
}

/// A record's layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordInfo {
    /// The Rust name.
    pub name: &'static str,
    /// The C struct tag: `sidecar_spawn_action`.
    pub c_name: &'static str,
    /// The public C type with the same layout, if the SDK has one
    /// (`struct pollfd`).
    pub mirrors: Option<&'static str>,
    pub size: usize,
    pub doc: &'static str,
    pub fields: Vec<FieldInfo>,
}

impl RecordInfo {
    /// The C definition, as the header and SPEC.md show it.
    pub fn c_definition(&self) -> String {
        let decls: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{};", f.c_decl))
            .collect();
        let width = decls.iter().map(String::len).max().unwrap_or(0);
        let mut s = format!(
            "struct {} {{ /* {} bytes, little-endian */\n",
            self.c_name, self.size
        );
        for (f, d) in self.fields.iter().zip(&decls) {
            let doc = f.doc.trim();
            if doc.is_empty() {
                s.push_str(&format!("    {d}\n"));
            } else {
                s.push_str(&format!("    {d:width$} /* {doc} */\n"));
            }
        }
        s.push_str("};\n");
        s
    }
}

/// A record: a fixed-size little-endian layout in guest memory.
pub trait Record: Copy + Sized {
    /// Its size in bytes.
    const SIZE: usize;

    fn info() -> RecordInfo;

    /// Reads one from `b` (at least [`Self::SIZE`] bytes; `None` if shorter).
    fn decode(b: &[u8]) -> Option<Self>;

    /// Writes it into `b` (at least [`Self::SIZE`] bytes): every field at
    /// its offset, padding zeroed.
    fn encode_into(&self, b: &mut [u8]);

    /// Its bytes.
    fn encode(&self) -> Vec<u8> {
        let mut b = vec![0; Self::SIZE];
        self.encode_into(&mut b);
        b
    }

    /// The all-zero record.
    fn zeroed() -> Self {
        Self::decode(&vec![0; Self::SIZE]).unwrap()
    }
}

/// `Some(x)` for one expression, `None` for none.
macro_rules! opt {
    () => {
        None
    };
    ($e:expr) => {
        Some($e)
    };
}

macro_rules! record {
    (
        $(#[doc = $doc:literal])*
        struct $name:ident = $cname:literal $(mirrors $public:literal)?, size $size:literal {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $fty:ty $(as $pf:literal)?
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: $fty, )*
        }

        const _: () = assert!(size_of::<$name>() == $size, "record size changed");

        impl Record for $name {
            const SIZE: usize = $size;

            fn info() -> RecordInfo {
                RecordInfo {
                    name: stringify!($name),
                    c_name: $cname,
                    mirrors: opt!($($public)?),
                    size: $size,
                    doc: concat!($($doc),*),
                    fields: vec![$(FieldInfo {
                        name: stringify!($field),
                        c_decl: <$fty as Field>::c_decl(stringify!($field)),
                        offset: offset_of!($name, $field),
                        size: size_of::<$fty>(),
                        doc: concat!($($fdoc),*),
                        public_name: opt!($($pf)?),
                    }),*],
                }
            }

            fn decode(b: &[u8]) -> Option<Self> {
                let b = b.get(..$size)?;
                Some($name {
                    $( $field: <$fty as Field>::get(&b[offset_of!($name, $field)..]), )*
                })
            }

            fn encode_into(&self, b: &mut [u8]) {
                let b = &mut b[..$size];
                b.fill(0);
                $( <$fty as Field>::put(self.$field, &mut b[offset_of!($name, $field)..]); )*
            }
        }
    };
}

record! {
    /// A `posix_spawn` file action (`host_proc.spawn`: `n_actions` of them
    /// at `actions`).
    struct SpawnAction = "sidecar_spawn_action", size 32 {
        /// SC_SPAWN_ACT_*: 1 close(fd); 2 dup2(fd, newfd); 3 open(path) onto newfd; 4 chdir(path)
        op: u32,
        fd: i32,
        newfd: i32,
        /// Linux O_* bits, for op 3
        oflag: u32,
        /// for op 3
        mode: u32,
        /// guest pointer, ops 3 and 4
        path: u32,
        path_len: u32,
        /// 0
        reserved: u32,
    }
}

record! {
    /// `posix_spawn` attributes (`host_proc.spawn` `attr`, or 0).
    struct SpawnAttr = "sidecar_spawn_attr", size 32 {
        /// SC_ATTR_*: 1 SETPGROUP, 2 SETSID, 4 SETSIGDEF, 8 SETSIGMASK
        flags: u32,
        /// for SETPGROUP: 0 = the child's own pid
        pgroup: i32,
        /// guest pointer to the child's working directory (absolute), or 0
        cwd: u32,
        cwd_len: u32,
        /// bit n-1 = signal n
        sigdefault: u64,
        sigmask: u64,
    }
}

record! {
    /// What `host_proc.setitimer`/`getitimer` report: the old or current
    /// setting.
    struct ITimerVal = "sidecar_itimerval", size 16 {
        /// microseconds between expiries (0: one shot)
        interval_us: u64,
        /// microseconds until the next expiry (0: disarmed)
        value_us: u64,
    }
}

record! {
    /// The two fds `host_proc.pipe2` (read end, write end) and
    /// `host_net.socketpair` return.
    struct FdPair = "sidecar_fd_pair", size 8 {
        fds: [i32; 2],
    }
}

record! {
    /// `host_net.recvmsg`'s `result`.
    struct RecvResult = "sidecar_recv_result", size 16 {
        /// bytes received (0: EOF)
        bytes: u32,
        /// fds installed in the caller
        nfds: u32,
        /// the sender's full address length
        addr_len: u32,
        /// MSG_TRUNC, MSG_CTRUNC
        msg_flags: u32,
    }
}

record! {
    /// A WASI `ciovec`/`iovec` (`sendmsg`/`recvmsg` `iovs`, WASI reads and
    /// writes).
    struct IoVec = "sidecar_iovec" mirrors "struct iovec", size 8 {
        /// guest pointer
        iov_base: u32,
        iov_len: u32,
    }
}

record! {
    /// Linux `struct pollfd` (`host_net.poll`).
    struct PollFd = "sidecar_pollfd" mirrors "struct pollfd", size 8 {
        fd: i32,
        /// LX_POLL* bits
        events: i16,
        /// LX_POLL* bits
        revents: i16,
    }
}

record! {
    /// Linux `struct sockaddr_un`: `sun_family` = AF_UNIX, then the path
    /// (NUL first: an abstract name of `len - 2` bytes).
    struct SockaddrUn = "sidecar_sockaddr_un" mirrors "struct sockaddr_un", size 110 {
        sun_family: u16,
        sun_path: [u8; 108],
    }
}

record! {
    /// Linux `struct ucred` (`SO_PEERCRED`).
    struct Ucred = "sidecar_ucred" mirrors "struct ucred", size 12 {
        pid: i32,
        uid: u32,
        gid: u32,
    }
}

record! {
    /// The 60-byte glibc/musl `struct termios` (`TCGETS`, `TCSETS*`).
    struct Termios = "sidecar_termios" mirrors "struct termios", size 60 {
        c_iflag: u32,
        c_oflag: u32,
        c_cflag: u32,
        c_lflag: u32,
        c_line: u8,
        c_cc: [u8; 32],
        /// numeric rate (38400)
        c_ispeed: u32 as "__c_ispeed",
        c_ospeed: u32 as "__c_ospeed",
    }
}

record! {
    /// Linux `struct winsize` (`TIOCGWINSZ`, `TIOCSWINSZ`).
    struct Winsize = "sidecar_winsize" mirrors "struct winsize", size 8 {
        ws_row: u16,
        ws_col: u16,
        ws_xpixel: u16,
        ws_ypixel: u16,
    }
}

/// Every record, in header order.
pub fn all() -> Vec<RecordInfo> {
    vec![
        SpawnAction::info(),
        SpawnAttr::info(),
        ITimerVal::info(),
        FdPair::info(),
        RecvResult::info(),
        IoVec::info(),
        PollFd::info(),
        SockaddrUn::info(),
        Ucred::info(),
        Termios::info(),
        Winsize::info(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_at_their_offsets() {
        let mut raw = [0u8; 32];
        raw[0..4].copy_from_slice(&3u32.to_le_bytes());
        raw[8..12].copy_from_slice(&(-1i32).to_le_bytes());
        raw[20..24].copy_from_slice(&0x1234u32.to_le_bytes());
        let a = SpawnAction::decode(&raw).unwrap();
        assert_eq!((a.op, a.newfd, a.path), (3, -1, 0x1234));
        assert_eq!(a.encode(), raw);
        assert!(SpawnAction::decode(&raw[..31]).is_none());

        let t = Termios {
            c_ispeed: 38400,
            c_line: 7,
            ..Termios::zeroed()
        };
        let b = t.encode();
        assert_eq!((b[16], &b[52..56]), (7, &38400u32.to_le_bytes()[..]));
        assert_eq!(Termios::decode(&b).unwrap(), t);
    }

    #[test]
    fn layouts_are_described() {
        let info = SpawnAttr::info();
        let offsets: Vec<usize> = info.fields.iter().map(|f| f.offset).collect();
        assert_eq!(offsets, [0, 4, 8, 12, 16, 24]);
        let s = SockaddrUn::info();
        assert_eq!(s.fields[1].c_decl, "uint8_t sun_path[108]");
        assert_eq!(PollFd::info().fields[2].offset, 6);
        assert!(SpawnAction::info().c_definition().contains("uint32_t op;"));
    }
}
