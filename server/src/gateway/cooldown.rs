//! After a connection is closed for flooding, whoever it spoke for may not
//! open a new one for `gateway.flood_window`: an agent by id, a customer by
//! network address (a customer has no identity before the server gives it a
//! session, and a flooder would simply start new sessions).
//!
//! The rate limit counts per connection: without this, a flooder that
//! reconnects at once starts every connection with a full burst and keeps
//! most of its rate (measured: about 3,500 commands a second got through a
//! limit of 20; `docs/performance.md`, "Flood and storm"). Customers already
//! connected from the same address (offices, carrier NAT) carry on; new
//! customer connections from it wait out the window. A flood close takes
//! `flood_refusals` refused commands within `flood_window`, far beyond what
//! the widget ever sends, so only a misbehaving program triggers it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// Who a connection speaks for, hashed (the map never holds ids or addresses in clear).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Who([u8; 32]);

impl Who {
    /// Customers connecting from this address.
    pub fn customers_at(ip: std::net::IpAddr) -> Who {
        Who::hashed("customers", &ip.to_canonical().to_string())
    }

    pub fn agent(id: &str) -> Who {
        Who::hashed("agent", id)
    }

    fn hashed(kind: &str, id: &str) -> Who {
        let mut hash = Sha256::new();
        hash.update(kind.as_bytes());
        hash.update([0]);
        hash.update(id.as_bytes());
        Who(hash.finalize().into())
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct FloodCooldown {
    period: Duration,
    until: Mutex<HashMap<Who, Instant>>,
}

/// Expired entries are swept once the map holds this many.
const SWEEP_AT: usize = 10_000;

impl FloodCooldown {
    pub fn new(period: Duration) -> FloodCooldown {
        FloodCooldown { period, until: Mutex::new(HashMap::new()) }
    }

    /// `who` was just closed for flooding.
    pub fn penalize(&self, who: Who) {
        let now = Instant::now();
        let mut until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if until.len() >= SWEEP_AT {
            until.retain(|_, end| *end > now);
        }
        until.insert(who, now + self.period);
    }

    /// How long `who` must still wait, if at all.
    pub fn remaining(&self, who: Who) -> Option<Duration> {
        let until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        let end = *until.get(&who)?;
        end.checked_duration_since(Instant::now()).filter(|left| !left.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_flooder_waits_out_the_window_and_nobody_else_does() {
        let cooldown = FloodCooldown::new(Duration::from_secs(10));
        let (flooder, other) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        cooldown.penalize(Who::customers_at(flooder));
        assert!(cooldown.remaining(Who::customers_at(flooder)).is_some());
        assert!(cooldown.remaining(Who::customers_at("::ffff:10.0.0.1".parse().unwrap())).is_some(), "mapped form");
        assert_eq!(cooldown.remaining(Who::customers_at(other)), None, "another address");
        assert_eq!(cooldown.remaining(Who::agent("10.0.0.1")), None, "an agent named like the address");
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(cooldown.remaining(Who::customers_at(flooder)), None, "the window is over");
    }
}
