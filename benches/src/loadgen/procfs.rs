//! What Linux says about the server process (its resident memory, CPU time
//! and open files, and which process listens on a port) and about the
//! kernel's own memory.

use std::fs;
use std::io;

/// Resident memory of process `pid` in KiB (`VmRSS` in `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_rss(&status).ok_or_else(|| io::Error::other(format!("no VmRSS for pid {pid}")))
}

/// A field of `/proc/meminfo` in KiB, e.g. `Slab` or `SUnreclaim`
/// (kernel memory for sockets and the like, machine-wide).
pub fn meminfo_kib(field: &str) -> io::Result<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo")?;
    parse_kib_field(&meminfo, field).ok_or_else(|| io::Error::other(format!("no {field} in /proc/meminfo")))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    parse_kib_field(status, "VmRSS")
}

/// `NAME:   1234 kB` in a `/proc` table, in KiB.
fn parse_kib_field(table: &str, name: &str) -> Option<u64> {
    let line = table.lines().find(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with(':')))?;
    line[name.len() + 1..].split_whitespace().next()?.parse().ok()
}

/// CPU time process `pid` has used, user and system together, in seconds
/// (`utime` + `stime` of `/proc/PID/stat`).
pub fn cpu_secs(pid: u32) -> io::Result<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = parse_cpu_ticks(&stat).ok_or_else(|| io::Error::other(format!("unreadable stat for pid {pid}")))?;
    Ok(ticks as f64 / rustix::param::clock_ticks_per_second() as f64)
}

/// `utime + stime` in clock ticks: fields 14 and 15, counted after the
/// command name, which is in parentheses and may hold spaces.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Open file descriptors of process `pid` (sockets included), if this user
/// may look.
pub fn open_fds(pid: u32) -> io::Result<usize> {
    Ok(fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// Whether process `pid` still exists (a zombie counts as gone).
pub fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rfind(')').is_some_and(|at| !stat[at + 1..].trim_start().starts_with('Z')))
}

/// The process with a TCP socket listening on `port`, if this user can see it.
pub fn pid_listening_on(port: u16) -> Option<u32> {
    let inodes: Vec<u64> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| fs::read_to_string(path).ok())
        .flat_map(|table| listening_inodes(&table, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = fs::read_link(fd.path())
                && wanted.iter().any(|w| target.as_os_str() == w.as_str())
            {
                return Some(pid);
            }
        }
    }
    None
}

/// Inodes of sockets in a `/proc/net/tcp` table listening on `port`.
fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    const LISTEN: &str = "0A";
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let local_port = u16::from_str_radix(local.rsplit(':').next()?, 16).ok()?;
            (local_port == port && *fields.get(3)? == LISTEN).then(|| fields.get(9)?.parse().ok())?
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tchatd\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(5120));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        assert!(rss_kib(std::process::id()).expect("own status") > 0);
    }

    #[test]
    fn reads_kernel_memory_cpu_time_and_open_files() {
        let meminfo = "MemTotal:       24683520 kB\nSlab:             812344 kB\nSReclaimable:     600000 kB\nSUnreclaim:       212344 kB\n";
        assert_eq!(parse_kib_field(meminfo, "Slab"), Some(812_344));
        assert_eq!(parse_kib_field(meminfo, "SUnreclaim"), Some(212_344));
        assert_eq!(parse_kib_field(meminfo, "SReclaim"), None);
        assert!(meminfo_kib("Slab").expect("slab") > 0);
        let stat = "4242 (chat d) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 25 0 0 20 0 3 0 100 1000 200";
        assert_eq!(parse_cpu_ticks(stat), Some(175));
        let me = std::process::id();
        assert!(cpu_secs(me).expect("own stat") >= 0.0);
        assert!(open_fds(me).expect("own fds") >= 3);
        assert!(alive(me));
        assert!(!alive(u32::MAX));
    }

    #[test]
    fn finds_listening_sockets_by_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n   1: 0100007F:1B58 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 100 0 0 10 0\n";
        assert_eq!(listening_inodes(table, 7000), [4242]);
        assert!(listening_inodes(table, 7001).is_empty());
    }

    #[test]
    fn finds_this_process_by_its_listening_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert_eq!(pid_listening_on(port), Some(std::process::id()));
    }
}
