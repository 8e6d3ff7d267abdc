//! The per-connection command rate limit (`gateway.message_rate`,
//! `message_burst`, `flood_refusals`, `flood_window`).
//!
//! Every command a client sends costs the single router task a turn (and
//! most cost a log write), so one client sending thousands a second would
//! slow every chat. Each connection gets a token bucket (governor's direct
//! limiter: a few dozen bytes, no lock): a frame over the rate is refused
//! with `rate_limited` and not executed. A client that keeps going anyway
//! (`flood_refusals` refusals within one `flood_window`) is not a confused
//! browser but a flood: it is closed with 1008.
//!
//! What counts: every text or binary frame, the `ping` command included
//! (it also takes the router task's turn; the widget sends one every 25 s).
//! WebSocket-level ping/pong/close frames do not count: the WebSocket layer
//! answers them without the router task.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::config::GatewayConfig;

/// What to do with one incoming frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Refuse it with `rate_limited`; the connection lives on.
    Refuse,
    /// Refuse it and close the connection: it is flooding.
    Flooding,
}

/// One connection's bucket and its count of recent refusals.
#[derive(Debug)]
pub struct CommandLimiter {
    bucket: Option<DefaultDirectRateLimiter>,
    flood_refusals: u32,
    flood_window: Duration,
    window_start: Option<Instant>,
    refused_in_window: u32,
}

impl CommandLimiter {
    /// The limiter the config asks for (`message_rate = 0`: none).
    pub fn new(g: &GatewayConfig) -> CommandLimiter {
        let bucket = NonZeroU32::new(g.message_rate).map(|rate| {
            let burst = NonZeroU32::new(g.message_burst).unwrap_or(rate);
            RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
        });
        CommandLimiter {
            bucket,
            flood_refusals: g.flood_refusals.max(1),
            flood_window: g.flood_window,
            window_start: None,
            refused_in_window: 0,
        }
    }

    /// Takes a token for one frame arriving at `now`.
    pub fn check(&mut self, now: Instant) -> Verdict {
        let Some(bucket) = &self.bucket else { return Verdict::Pass };
        if bucket.check().is_ok() {
            return Verdict::Pass;
        }
        // A fixed window: cheap, and a flood fills any window in milliseconds.
        match self.window_start {
            Some(start) if now.duration_since(start) < self.flood_window => self.refused_in_window += 1,
            _ => {
                self.window_start = Some(now);
                self.refused_in_window = 1;
            }
        }
        if self.refused_in_window >= self.flood_refusals {
            Verdict::Flooding
        } else {
            Verdict::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(rate: u32, burst: u32, refusals: u32) -> GatewayConfig {
        GatewayConfig {
            message_rate: rate,
            message_burst: burst,
            flood_refusals: refusals,
            flood_window: Duration::from_secs(10),
            ..GatewayConfig::default()
        }
    }

    #[test]
    fn a_burst_passes_then_frames_are_refused_then_the_flood_is_closed() {
        let mut limiter = CommandLimiter::new(&gateway(1, 5, 3));
        let now = Instant::now();
        let verdicts: Vec<_> = (0..8).map(|_| limiter.check(now)).collect();
        assert_eq!(&verdicts[..5], &[Verdict::Pass; 5]);
        assert_eq!(&verdicts[5..], &[Verdict::Refuse, Verdict::Refuse, Verdict::Flooding]);
    }

    #[test]
    fn refusals_spread_over_windows_are_not_a_flood() {
        let mut limiter = CommandLimiter::new(&gateway(1, 1, 2));
        let start = Instant::now();
        assert_eq!(limiter.check(start), Verdict::Pass);
        assert_eq!(limiter.check(start), Verdict::Refuse);
        // The window counts refusals, not time: a refusal in a later window starts over.
        assert_eq!(limiter.check(start + Duration::from_secs(11)), Verdict::Refuse);
    }

    #[test]
    fn rate_zero_is_no_limit() {
        let mut limiter = CommandLimiter::new(&gateway(0, 0, 1));
        assert!((0..10_000).all(|_| limiter.check(Instant::now()) == Verdict::Pass));
    }
}
