//! The per-IP cap on open WebSockets (`gateway.max_connections_per_ip`).
//!
//! `max_connections` protects the server as a whole; without a share per
//! address, one host could take every slot and lock every customer out.
//! The cap is generous by default because many real customers share one
//! address (carrier-grade NAT, offices). It counts WebSockets, from the
//! handshake to the connection's end; TCP connections that never finish a
//! handshake are the handshake timeout's business. IPv4-mapped IPv6
//! addresses count as the IPv4 address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open WebSockets per address, and the cap (0: none).
#[derive(Debug)]
pub struct PerIpConnections {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One address's share of the cap, given back when dropped.
#[derive(Debug)]
pub struct IpSlot {
    table: Option<(Arc<PerIpConnections>, IpAddr)>,
}

impl PerIpConnections {
    pub fn new(limit: usize) -> Arc<PerIpConnections> {
        Arc::new(PerIpConnections { limit, open: Mutex::new(HashMap::new()) })
    }

    /// A slot for one more connection from `ip`, or `None` at the cap.
    pub fn try_take(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        if self.limit == 0 {
            return Some(IpSlot { table: None });
        }
        let ip = ip.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(IpSlot { table: Some((self.clone(), ip)) })
    }

    /// Open connections from `ip` (for tests).
    pub fn open_from(&self, ip: IpAddr) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).get(&ip.to_canonical()).copied().unwrap_or(0)
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let Some((table, ip)) = self.table.take() else { return };
        let mut open = table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&ip) {
            *count -= 1;
            // Forget addresses with nothing open, so the map does not grow with every visitor.
            if *count == 0 {
                open.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_open_connections_per_address() {
        let table = PerIpConnections::new(2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = table.try_take(a).unwrap();
        let _second = table.try_take(a).unwrap();
        assert!(table.try_take(a).is_none(), "a third from the same address is refused");
        assert!(table.try_take("::ffff:10.0.0.1".parse().unwrap()).is_none(), "the mapped form is the same address");
        let _other = table.try_take(b).unwrap();
        drop(first);
        assert!(table.try_take(a).is_some(), "a closed connection frees its slot");
    }

    #[test]
    fn zero_means_no_cap() {
        let table = PerIpConnections::new(0);
        let slots: Vec<_> = (0..1000).map(|_| table.try_take("127.0.0.1".parse().unwrap()).unwrap()).collect();
        assert_eq!(slots.len(), 1000);
        assert_eq!(table.open_from("127.0.0.1".parse().unwrap()), 0);
    }
}
