//! AF_UNIX sockets: addresses, the sockets themselves, the abstract
//! namespace, and the bridges that carry them to the host. The system
//! calls over them are the kernel's (`kernel/net.rs`).

pub mod addr;
pub mod bridge;
pub mod socket;

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use crate::errno::{Errno, KResult};
use socket::UnixSocket;

/// The abstract socket namespace (names starting with NUL). A name lives as
/// long as its socket: a dead entry is free.
#[derive(Debug, Default)]
pub struct Namespace {
    names: HashMap<Vec<u8>, Weak<UnixSocket>>,
    next_auto: u32,
}

impl Namespace {
    pub fn bind(&mut self, name: Vec<u8>, sock: &Arc<UnixSocket>) -> KResult<()> {
        if self.lookup(&name).is_some() {
            return Err(Errno::EADDRINUSE);
        }
        self.names.insert(name, Arc::downgrade(sock));
        Ok(())
    }

    pub fn lookup(&mut self, name: &[u8]) -> Option<Arc<UnixSocket>> {
        let s = self.names.get(name)?.upgrade();
        if s.is_none() {
            self.names.remove(name);
        }
        s
    }

    /// A fresh autobind name: five hex digits, as Linux picks.
    pub fn auto_name(&mut self) -> KResult<Vec<u8>> {
        for _ in 0..0x10_0000 {
            let name = format!("{:05x}", self.next_auto & 0xf_ffff).into_bytes();
            self.next_auto = self.next_auto.wrapping_add(1);
            if self.lookup(&name).is_none() {
                return Ok(name);
            }
        }
        Err(Errno::ENOSPC)
    }
}
