//! Latency histograms (HDR, microseconds) and the figures a run reports.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// A latency histogram in microseconds, 1 us to 5 minutes, 3 significant digits.
#[derive(Clone, Debug)]
pub struct Latency(pub Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, 300_000_000, 3).expect("valid histogram bounds"))
    }
}

impl Latency {
    pub fn record(&mut self, latency: Duration) {
        self.0.saturating_record((latency.as_micros() as u64).max(1));
    }

    pub fn merge(&mut self, other: &Latency) {
        self.0.add(&other.0).expect("histograms with the same bounds add");
    }

    pub fn summary(&self, name: &str) -> LatencySummary {
        let h = &self.0;
        let ms = |us: u64| us as f64 / 1000.0;
        let empty = h.is_empty();
        let q = |quantile: f64| if empty { 0.0 } else { ms(h.value_at_quantile(quantile)) };
        LatencySummary {
            name: name.to_owned(),
            count: h.len(),
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: if empty { 0.0 } else { ms(h.max()) },
        }
    }
}

/// Percentiles of one latency histogram, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct LatencySummary {
    pub name: String,
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// Which way is better for a figure: it decides nothing but is printed with ratios.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// One named number from a run (throughput, memory per connection, drain time...).
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    pub name: String,
    pub unit: String,
    pub value: f64,
    pub better: Better,
}

impl Figure {
    pub fn new(name: &str, unit: &str, value: f64, better: Better) -> Self {
        Figure { name: name.to_owned(), unit: unit.to_owned(), value, better }
    }
}

/// A sample of a long run (soak): when, the server's RSS, latency in that window.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    pub at_s: f64,
    pub rss_kib: Option<u64>,
    pub delivered: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Everything one run of one scenario against one target produced.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunResult {
    pub figures: Vec<Figure>,
    pub latencies: Vec<LatencySummary>,
    pub samples: Vec<Sample>,
    pub notes: Vec<String>,
}

impl RunResult {
    pub fn figure(&mut self, name: &str, unit: &str, value: f64, better: Better) {
        self.figures.push(Figure::new(name, unit, value, better));
    }

    pub fn latency(&mut self, name: &str, latency: &Latency) {
        self.latencies.push(latency.summary(name));
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}

/// The median of some numbers (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reports_percentiles_in_milliseconds() {
        let mut latency = Latency::default();
        for us in 1..=1000u64 {
            latency.record(Duration::from_micros(us));
        }
        let summary = latency.summary("x");
        assert_eq!(summary.count, 1000);
        assert!((summary.p50_ms - 0.5).abs() < 0.01, "{summary:?}");
        assert!((summary.p99_ms - 0.99).abs() < 0.01, "{summary:?}");
        assert!((summary.max_ms - 1.0).abs() < 0.01, "{summary:?}");
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
