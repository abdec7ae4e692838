//! The one way host code touches guest memory. Every access is bounds
//! checked; an out-of-range pointer or length is `EFAULT`, never a panic.

use sidecar_abi::Record;
use sidecar_kernel::Errno;

/// One `iovec`/`ciovec`: a guest pointer and a length.
pub use sidecar_abi::records::IoVec;

/// A guest's linear memory, borrowed for the duration of one host call.
pub struct GuestMem<'a> {
    data: &'a mut [u8],
}

/// Most iovecs one call takes (Linux's `IOV_MAX`/`UIO_MAXIOV`); more is
/// `EINVAL`, checked before any of them is read.
pub const IOV_MAX: u32 = sidecar_abi::consts::limits::IOV_MAX;

impl<'a> GuestMem<'a> {
    pub fn new(data: &'a mut [u8]) -> GuestMem<'a> {
        GuestMem { data }
    }

    fn range(&self, ptr: u32, len: u32) -> Result<std::ops::Range<usize>, Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::EFAULT)?;
        if end > self.data.len() {
            return Err(Errno::EFAULT);
        }
        Ok(start..end)
    }

    /// Borrows `len` bytes at `ptr`.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&self.data[r])
    }

    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.data[r])
    }

    /// Copies guest bytes into a host buffer.
    pub fn copy_in(&self, ptr: u32, len: u32) -> Result<Vec<u8>, Errno> {
        self.slice(ptr, len).map(<[u8]>::to_vec)
    }

    /// Copies host bytes into guest memory at `ptr`.
    pub fn copy_out(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::EFAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }

    pub fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.slice(ptr, 1)?[0])
    }

    pub fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        Ok(u16::from_le_bytes(self.slice(ptr, 2)?.try_into().unwrap()))
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.slice(ptr, 4)?.try_into().unwrap()))
    }

    pub fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        Ok(u64::from_le_bytes(self.slice(ptr, 8)?.try_into().unwrap()))
    }

    pub fn write_u8(&mut self, ptr: u32, v: u8) -> Result<(), Errno> {
        self.copy_out(ptr, &[v])
    }

    pub fn write_u16(&mut self, ptr: u32, v: u16) -> Result<(), Errno> {
        self.copy_out(ptr, &v.to_le_bytes())
    }

    pub fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.copy_out(ptr, &v.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.copy_out(ptr, &v.to_le_bytes())
    }

    /// The record `R` at `ptr`, read field by field.
    pub fn read_record<R: Record>(&self, ptr: u32) -> Result<R, Errno> {
        R::decode(self.slice(ptr, R::SIZE as u32)?).ok_or(Errno::EFAULT)
    }

    /// `count` records `R` laid end to end at `ptr`.
    pub fn read_records<R: Record>(&self, ptr: u32, count: u32) -> Result<Vec<R>, Errno> {
        let len = count.checked_mul(R::SIZE as u32).ok_or(Errno::EFAULT)?;
        self.slice(ptr, len)?
            .chunks_exact(R::SIZE)
            .map(|b| R::decode(b).ok_or(Errno::EFAULT))
            .collect()
    }

    /// Writes the record `r` at `ptr`, field by field (padding zeroed).
    pub fn write_record<R: Record>(&mut self, ptr: u32, r: &R) -> Result<(), Errno> {
        r.encode_into(self.slice_mut(ptr, R::SIZE as u32)?);
        Ok(())
    }

    /// Checks that a record `R` fits at `ptr`, before a call has effects.
    pub fn check_record<R: Record>(&self, ptr: u32) -> Result<(), Errno> {
        self.slice(ptr, R::SIZE as u32).map(drop)
    }

    /// A UTF-8 string of `len` bytes (paths, names). Invalid UTF-8 or an
    /// embedded NUL is `EINVAL`.
    pub fn string(&self, ptr: u32, len: u32) -> Result<String, Errno> {
        let bytes = self.slice(ptr, len)?;
        if bytes.contains(&0) {
            return Err(Errno::EINVAL);
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| Errno::EINVAL)
    }

    /// `count` iovecs starting at `ptr`, each checked against memory. More
    /// than [`IOV_MAX`] is `EINVAL`, as `readv`/`writev` on Linux.
    pub fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<IoVec>, Errno> {
        if count > IOV_MAX {
            return Err(Errno::EINVAL);
        }
        let iovs: Vec<IoVec> = self.read_records(ptr, count)?;
        for v in &iovs {
            self.range(v.iov_base, v.iov_len)?;
        }
        Ok(iovs)
    }

    /// The iovecs of a `sendmsg`/`recvmsg`: as [`Self::iovecs`], but more
    /// than [`IOV_MAX`] is `EMSGSIZE`, as Linux's socket calls say.
    pub fn msg_iovecs(&self, ptr: u32, count: u32) -> Result<Vec<IoVec>, Errno> {
        if count > IOV_MAX {
            return Err(Errno::EMSGSIZE);
        }
        self.iovecs(ptr, count)
    }

    /// Gathers the bytes of `iovs` into one host buffer.
    pub fn gather(&self, iovs: &[IoVec]) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::with_capacity(iov_total(iovs));
        for v in iovs {
            out.extend_from_slice(self.slice(v.iov_base, v.iov_len)?);
        }
        Ok(out)
    }

    /// Scatters `bytes` over `iovs` in order; returns how many were placed.
    pub fn scatter(&mut self, iovs: &[IoVec], mut bytes: &[u8]) -> Result<usize, Errno> {
        let mut n = 0;
        for v in iovs {
            if bytes.is_empty() {
                break;
            }
            let take = bytes.len().min(v.iov_len as usize);
            self.copy_out(v.iov_base, &bytes[..take])?;
            bytes = &bytes[take..];
            n += take;
        }
        Ok(n)
    }

    /// NUL-separated strings laid end to end (argv/envp buffers).
    pub fn string_list(&self, ptr: u32, len: u32) -> Result<Vec<String>, Errno> {
        let bytes = self.slice(ptr, len)?;
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        if *bytes.last().unwrap() != 0 {
            return Err(Errno::EINVAL);
        }
        bytes[..bytes.len() - 1]
            .split(|b| *b == 0)
            .map(|s| String::from_utf8(s.to_vec()).map_err(|_| Errno::EINVAL))
            .collect()
    }
}

/// Total length of `iovs`, as the kernel is asked to transfer it.
pub fn iov_total(iovs: &[IoVec]) -> usize {
    iovs.iter().map(|v| v.iov_len as usize).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_is_efault() {
        let mut buf = vec![0u8; 16];
        let mut m = GuestMem::new(&mut buf);
        assert_eq!(m.read_u32(13).unwrap_err(), Errno::EFAULT);
        assert_eq!(m.slice(u32::MAX, 2).unwrap_err(), Errno::EFAULT);
        assert_eq!(m.copy_out(10, &[1; 7]).unwrap_err(), Errno::EFAULT);
        m.write_u32(12, 7).unwrap();
        assert_eq!(m.read_u32(12).unwrap(), 7);
        assert_eq!(m.iovecs(8, 2).unwrap_err(), Errno::EFAULT);
    }

    #[test]
    fn more_than_iov_max_iovecs_is_einval() {
        let mut buf = vec![0u8; 8 * (IOV_MAX as usize + 1)];
        let m = GuestMem::new(&mut buf);
        assert_eq!(m.iovecs(0, IOV_MAX).unwrap().len(), IOV_MAX as usize);
        assert_eq!(m.iovecs(0, IOV_MAX + 1).unwrap_err(), Errno::EINVAL);
        assert_eq!(m.iovecs(0, u32::MAX).unwrap_err(), Errno::EINVAL);
        assert_eq!(m.msg_iovecs(0, IOV_MAX + 1).unwrap_err(), Errno::EMSGSIZE);
    }

    #[test]
    fn iovecs_are_checked_and_scattered_in_order() {
        let mut buf = vec![0u8; 64];
        let mut m = GuestMem::new(&mut buf);
        m.write_u32(0, 32).unwrap();
        m.write_u32(4, 2).unwrap();
        m.write_u32(8, 40).unwrap();
        m.write_u32(12, 3).unwrap();
        let iovs = m.iovecs(0, 2).unwrap();
        assert_eq!(m.scatter(&iovs, b"abcd").unwrap(), 4);
        assert_eq!(m.slice(32, 2).unwrap(), b"ab");
        assert_eq!(m.slice(40, 2).unwrap(), b"cd");
        m.write_u32(12, 100).unwrap();
        assert_eq!(m.iovecs(0, 2).unwrap_err(), Errno::EFAULT);
    }

    #[test]
    fn records_are_read_and_written_by_field() {
        use sidecar_abi::records::PollFd;
        let mut buf = vec![0u8; 20];
        let mut m = GuestMem::new(&mut buf);
        let p = PollFd {
            fd: 7,
            events: 1,
            revents: -1,
        };
        m.write_record(4, &p).unwrap();
        assert_eq!(m.read_u32(4).unwrap(), 7);
        assert_eq!(m.read_u16(10).unwrap(), 0xffff);
        assert_eq!(m.read_record::<PollFd>(4).unwrap(), p);
        assert_eq!(m.read_records::<PollFd>(4, 2).unwrap().len(), 2);
        assert_eq!(m.read_records::<PollFd>(8, 2).unwrap_err(), Errno::EFAULT);
        assert_eq!(
            m.read_records::<PollFd>(4, u32::MAX).unwrap_err(),
            Errno::EFAULT
        );
        assert_eq!(m.check_record::<PollFd>(13).unwrap_err(), Errno::EFAULT);
    }

    #[test]
    fn string_lists_split_on_nul() {
        let mut buf = b"a\0\0bc\0".to_vec();
        let m = GuestMem::new(&mut buf);
        assert_eq!(m.string_list(0, 6).unwrap(), vec!["a", "", "bc"]);
        assert_eq!(m.string_list(0, 5).unwrap_err(), Errno::EINVAL);
    }
}
