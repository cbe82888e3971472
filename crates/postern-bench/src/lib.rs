#![doc = include_str!("../README.md")]

pub mod load;

use std::time::Duration;

/// Summary statistics of a sample of durations.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub median: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// Smallest.
    pub min: Duration,
    /// Largest.
    pub max: Duration,
}

impl Stats {
    /// Compute from samples (nearest-rank percentiles). `None` if empty.
    pub fn of(samples: &[Duration]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort();
        let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Stats {
            n: v.len(),
            median: rank(0.5),
            p90: rank(0.9),
            min: v[0],
            max: v[v.len() - 1],
        })
    }
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// `a / b` as a ratio string.
pub fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64().max(1e-9))
}

/// CPU time (user + system) a process has used so far, from `/proc/PID/stat`.
pub fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime), counted from the pid; after the ')' they are 12 and 13.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time of the calling thread to the nanosecond, from `/proc/thread-self/schedstat` (the
/// scheduler's own count; `/proc/PID/stat` counts in 10 ms ticks, too coarse for a figure
/// taken over half a second).
pub fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// CPU time of this process's finished, waited-for children, from `/proc/self/stat`.
pub fn children_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // cutime, cstime: fields 16 and 17.
    let ticks: u64 = f.get(13)?.parse::<u64>().ok()? + f.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Resident set size of a process, in KiB, from `/proc/PID/status`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_of_self_is_readable() {
        assert!(super::cpu_time("self").is_some());
        let t0 = super::thread_cpu_time().expect("schedstat");
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(super::thread_cpu_time().expect("schedstat") > t0, "{x}");
        assert!(super::children_cpu_time().is_some());
    }

    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
        let s = Stats::of(&v).expect("stats");
        assert_eq!(s.median, Duration::from_millis(5));
        assert_eq!(s.p90, Duration::from_millis(9));
        assert_eq!(s.min, Duration::from_millis(1));
        assert_eq!(s.max, Duration::from_millis(10));
        assert!(Stats::of(&[]).is_none());
    }
}
