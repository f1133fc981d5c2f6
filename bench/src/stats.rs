//! Medians, percentiles and the formatting of numbers for the table.

use std::time::Duration;

/// The value at quantile `q` (0.0 ..= 1.0) of `samples` (sorted here), nearest rank.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

/// The median of `samples`.
pub fn median(samples: &mut [Duration]) -> Duration {
    quantile(samples, 0.5)
}

/// A duration with a unit that suits it: `812 ns`, `61.2 µs`, `3.40 ms`, `2.31 s`.
pub fn time(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// A count per second with thousands separators and a unit: `16,340 calls/s`.
pub fn rate(count: f64, over: Duration, unit: &str) -> String {
    let per_second = count / over.as_secs_f64().max(1e-12);
    format!("{} {unit}/s", thousands(per_second.round() as u64))
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as KiB or MiB.
pub fn bytes(n: u64) -> String {
    if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.2} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

/// Two variants measured side by side in each round, compared round by round (what drifts
/// between rounds cancels): the median of the per-round ratios `a[i] / b[i]` and their
/// spread, `1.031× (IQR 1.012–1.060)`.
pub fn paired_spread(a: &[Duration], b: &[Duration]) -> String {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| ratio(*x, *y)).collect();
    spread(&ratios)
}

/// The median of `ratios` and their interquartile range (their range when there are fewer
/// than four): `1.031× (IQR 1.012–1.060)`.
pub fn spread(ratios: &[f64]) -> String {
    let mut sorted: Vec<f64> = ratios.iter().copied().filter(|r| r.is_finite()).collect();
    if sorted.is_empty() {
        return "—".into();
    }
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
    };
    if sorted.len() < 4 {
        format!("{median:.3}× (range {:.3}–{:.3})", at(0.0), at(1.0))
    } else {
        format!("{median:.3}× (IQR {:.3}–{:.3})", at(0.25), at(0.75))
    }
}

/// `a / b` as a ratio: `1.03×`.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank() {
        let mut v: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(median(&mut v), Duration::from_micros(50));
        assert_eq!(quantile(&mut v, 0.99), Duration::from_micros(99));
        assert_eq!(quantile(&mut v, 1.0), Duration::from_micros(100));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(time(Duration::from_nanos(61_240)), "61.2 µs");
        assert_eq!(bytes(2048), "2.0 KiB");
        let ms = Duration::from_millis;
        assert_eq!(
            paired_spread(&[ms(2), ms(30), ms(4)], &[ms(1), ms(10), ms(4)]),
            "2.000× (range 1.000–3.000)"
        );
        assert_eq!(
            spread(&[1.0, 1.1, 1.2, 1.3, 1.4]),
            "1.200× (IQR 1.100–1.300)"
        );
    }
}
