//! Number formatting and other pieces of the markdown reports.

use std::time::Duration;

/// `v` with `prec` decimals, "—" if it is not finite.
pub fn fmt_num(v: f64, prec: usize) -> String {
    if v.is_finite() {
        format!("{v:.prec$}")
    } else {
        "—".into()
    }
}

/// ours ÷ redis; NaN unless both are finite and redis > 0.
pub fn ratio(ours: f64, redis: f64) -> f64 {
    if ours.is_finite() && redis.is_finite() && redis > 0.0 {
        ours / redis
    } else {
        f64::NAN
    }
}

/// The median of the finite values, if there are any.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The machine section's load-average line (no newline).
pub fn load_line(load_start: &str, load_end: &str, total: Duration) -> String {
    format!(
        "- load average at start {load_start}, at end {load_end}; total run time {:.0} s",
        total.as_secs_f64()
    )
}

/// The 1-minute load average at the start, when it says the machine was busy (> 0.5).
pub fn busy_load(load_start: &str) -> Option<f64> {
    let busy = load_start
        .split_whitespace()
        .next()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    (busy > 0.5).then_some(busy)
}

fn needs_no_quotes(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
}

/// `s` as a POSIX shell word.
pub fn shell_quote(s: &str) -> String {
    if needs_no_quotes(s) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A command line, shell-quoted.
pub fn argv_string(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `q` quantile (0..=1, nearest rank) of ascending-sorted `sorted`; NaN if it is empty.
pub fn quantile<T: Copy + Into<f64>>(sorted: &[T], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert!(quantile::<u32>(&[], 0.5).is_nan());
    }
}
