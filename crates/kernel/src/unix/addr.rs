//! AF_UNIX addresses in Linux's `struct sockaddr_un` encoding.

use std::mem::offset_of;

use sidecar_abi::consts::socket;
use sidecar_abi::records::SockaddrUn;
use sidecar_abi::Record;

use crate::errno::{Errno, KResult};

/// `sun_family` of an AF_UNIX address (the ABI's `AF_UNIX`, as stored).
pub const AF_UNIX: u16 = socket::AF_UNIX as u16;
/// Where `sun_path` starts (after the family).
const SUN_PATH_OFF: usize = offset_of!(SockaddrUn, sun_path);
/// Bytes of `sun_path`.
pub const SUN_PATH_MAX: usize = SockaddrUn::SIZE - SUN_PATH_OFF;

/// A socket's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnixAddr {
    Unnamed,
    /// A path in the VM filesystem.
    Path(String),
    /// A name in the abstract namespace (the bytes after the leading NUL).
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// Parses raw sockaddr bytes the way Linux's `unix_mkname` does.
    pub fn parse(raw: &[u8]) -> KResult<UnixAddr> {
        if raw.len() < SUN_PATH_OFF || raw.len() > SUN_PATH_OFF + SUN_PATH_MAX {
            return Err(Errno::EINVAL);
        }
        if u16::from_le_bytes([raw[0], raw[1]]) != AF_UNIX {
            return Err(Errno::EINVAL);
        }
        let path = &raw[SUN_PATH_OFF..];
        if path.is_empty() {
            return Ok(UnixAddr::Unnamed);
        }
        if path[0] == 0 {
            return Ok(UnixAddr::Abstract(path[1..].to_vec()));
        }
        let end = path.iter().position(|b| *b == 0).unwrap_or(path.len());
        String::from_utf8(path[..end].to_vec())
            .map(UnixAddr::Path)
            .map_err(|_| Errno::EINVAL)
    }

    /// The bytes and length Linux reports for this name.
    pub fn to_raw(&self) -> Vec<u8> {
        let mut out = AF_UNIX.to_le_bytes().to_vec();
        match self {
            UnixAddr::Unnamed => {}
            UnixAddr::Path(p) => {
                out.extend_from_slice(p.as_bytes());
                out.push(0);
            }
            UnixAddr::Abstract(name) => {
                out.push(0);
                out.extend_from_slice(name);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(path: &[u8]) -> Vec<u8> {
        let mut v = AF_UNIX.to_le_bytes().to_vec();
        v.extend_from_slice(path);
        v
    }

    #[test]
    fn parses_like_linux() {
        assert_eq!(UnixAddr::parse(&raw(b"")).unwrap(), UnixAddr::Unnamed);
        assert_eq!(
            UnixAddr::parse(&raw(b"/tmp/x\0junk")).unwrap(),
            UnixAddr::Path("/tmp/x".into())
        );
        assert_eq!(
            UnixAddr::parse(&raw(b"/tmp/x")).unwrap(),
            UnixAddr::Path("/tmp/x".into())
        );
        assert_eq!(
            UnixAddr::parse(&raw(b"\0abc\0")).unwrap(),
            UnixAddr::Abstract(b"abc\0".to_vec())
        );
        assert_eq!(UnixAddr::parse(&[2, 0, b'a']).unwrap_err(), Errno::EINVAL);
        assert_eq!(UnixAddr::Path("/a".into()).to_raw(), raw(b"/a\0"));
        assert_eq!(UnixAddr::Abstract(b"n".to_vec()).to_raw(), raw(b"\0n"));
    }
}
