//! Ratios between the benchmarks of one run, printed at the end of a bench binary.
//!
//! Criterion saves each benchmark's estimates in `<target>/criterion/<id>/new/estimates.json`;
//! this reads the medians written since `started` (so only this run's, never a stale one from
//! an earlier run) and prints `numerator / denominator` for each pair asked for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where criterion writes its data: `CRITERION_HOME`, else `<target dir>/criterion`.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    target.join("criterion")
}

/// Median time in ns of every benchmark measured since `started`, by full id
/// (`group/function`).
pub fn medians(started: SystemTime) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    collect(&criterion_dir(), started, &mut out);
    out
}

fn collect(dir: &Path, started: SystemTime, out: &mut HashMap<String, f64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some((id, median)) = read_estimate(&path, started) {
                out.insert(id, median);
            }
        } else {
            collect(&path, started, out);
        }
    }
}

fn read_estimate(new: &Path, started: SystemTime) -> Option<(String, f64)> {
    let estimates = new.join("estimates.json");
    let modified = std::fs::metadata(&estimates).ok()?.modified().ok()?;
    if modified < started {
        return None;
    }
    let benchmark: serde_json::Value =
        serde_json::from_slice(&std::fs::read(new.join("benchmark.json")).ok()?).ok()?;
    let estimates: serde_json::Value =
        serde_json::from_slice(&std::fs::read(estimates).ok()?).ok()?;
    let id = benchmark.get("full_id")?.as_str()?.to_string();
    let median = estimates.get("median")?.get("point_estimate")?.as_f64()?;
    Some((id, median))
}

/// Prints each `(label, numerator, denominator)` ratio of medians measured in this run, and
/// the medians themselves; pairs with a side not measured (filtered out) are skipped.
pub fn print(started: SystemTime, pairs: &[(&str, &str, &str)]) {
    if !std::env::args().any(|a| a == "--bench") {
        return; // test mode: nothing was measured
    }
    let m = medians(started);
    let lines: Vec<String> = pairs
        .iter()
        .filter_map(|(label, num, den)| {
            let (a, b) = (m.get(*num)?, m.get(*den)?);
            Some(format!(
                "  {label:<58} {:>10} / {:>10} = {:.3}",
                human(*a),
                human(*b),
                a / b
            ))
        })
        .collect();
    if !lines.is_empty() {
        println!("\nratios of medians in this run (numerator / denominator):");
        for l in lines {
            println!("{l}");
        }
    }
}

fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}
