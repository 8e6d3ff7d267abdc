//! The server process's CPU time and resident memory, read from /proc.
//!
//! The harness finds the process listening on the target port itself (the
//! target is on this machine, loopback only), or takes `--server-pid`.

use std::fs;

/// Clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Clone, Copy, Debug)]
pub struct Process {
    pub pid: u32,
}

impl Process {
    /// CPU time (user + system) used so far, in seconds (10 ms resolution).
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / TICKS_PER_SECOND)
    }

    /// Resident set size, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }

    /// The largest resident set size so far, in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|line| line.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

/// The machine's CPU time so far, from the `cpu` line of /proc/stat, in ticks (USER_HZ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachineCpu {
    /// Time the hypervisor ran something else while this machine's vCPUs wanted to run.
    pub steal: u64,
    /// Every column (user, nice, system, idle, iowait, irq, softirq, steal).
    pub total: u64,
}

impl MachineCpu {
    pub fn read() -> Option<MachineCpu> {
        MachineCpu::parse(&fs::read_to_string("/proc/stat").ok()?)
    }

    fn parse(stat: &str) -> Option<MachineCpu> {
        let line = stat.lines().find(|line| line.starts_with("cpu "))?;
        let columns: Vec<u64> = line.split_whitespace().skip(1).map(|c| c.parse().ok()).collect::<Option<_>>()?;
        // guest and guest_nice (columns 9 and 10) are already counted in user and nice.
        let total = columns.iter().take(8).sum();
        Some(MachineCpu { steal: *columns.get(7)?, total })
    }

    /// Steal between `self` (before) and `after`: ticks, and percent of all CPU time.
    pub fn steal_since(&self, after: &MachineCpu) -> (u64, f64) {
        let steal = after.steal.saturating_sub(self.steal);
        let total = after.total.saturating_sub(self.total);
        (steal, if total == 0 { 0.0 } else { 100.0 * steal as f64 / total as f64 })
    }
}

/// The process that listens on TCP `port` on this machine, if we may see it.
pub fn find_listener(port: u16) -> Option<Process> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return None;
    }
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if let Ok(link) = fs::read_link(fd.path()) {
                let link = link.to_string_lossy();
                if let Some(inode) = link.strip_prefix("socket:[").and_then(|rest| rest.strip_suffix(']')) {
                    if inodes.iter().any(|known| known == inode) {
                        return Some(Process { pid });
                    }
                }
            }
        }
    }
    None
}

/// Socket inodes in state LISTEN (0A) on `port`, from /proc/net/tcp and tcp6.
fn listening_inodes(port: u16) -> Vec<String> {
    let port_hex = format!("{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) = (fields.get(1), fields.get(3), fields.get(9)) else {
                continue;
            };
            if *state == "0A" && local.rsplit(':').next() == Some(port_hex.as_str()) {
                inodes.push((*inode).to_owned());
            }
        }
    }
    inodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_comes_from_the_eighth_column_of_the_cpu_line() {
        let before = MachineCpu::parse("cpu  100 5 50 800 4 0 1 40 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n").unwrap();
        assert_eq!(before, MachineCpu { steal: 40, total: 1000 });
        let after = MachineCpu { steal: 50, total: 1200 };
        assert_eq!(before.steal_since(&after), (10, 5.0));
        assert!(MachineCpu::read().is_some(), "this machine has a /proc/stat");
        assert_eq!(MachineCpu::parse("intr 1 2\n"), None);
    }

    #[test]
    fn reads_own_cpu_and_rss_and_finds_own_listener() {
        let me = Process { pid: std::process::id() };
        assert!(me.cpu_seconds().is_some());
        assert!(me.rss_kib().unwrap() > 0);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(find_listener(port).map(|p| p.pid), Some(std::process::id()));
    }
}
