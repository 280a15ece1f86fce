//! Seconds since the Unix epoch, supplied by the caller: the verifier reads no clock.

use core::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time as whole seconds since 1970-01-01T00:00:00Z.
///
/// The certificate verifier never reads the clock; the caller passes the current time.
/// `Display` renders it as `YYYY-MM-DD HH:MM:SS UTC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// Converts a [`SystemTime`]; times before 1970 become 0.
    pub fn from_system_time(t: SystemTime) -> Self {
        UnixTime(t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    }

    /// Seconds since the Unix epoch by the system clock: the fallback when a config gives no
    /// verification time.
    pub fn now_secs() -> u64 {
        Self::from_system_time(SystemTime::now()).0
    }

    /// Converts a signed timestamp as found in certificates; times before 1970 become 0.
    pub(crate) fn from_i64(secs: i64) -> Self {
        UnixTime(u64::try_from(secs).unwrap_or(0))
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0 / 86_400;
        let secs = self.0 % 86_400;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    }
}

/// Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`,
/// restricted to non-negative inputs).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_known_dates() {
        assert_eq!(UnixTime(0).to_string(), "1970-01-01 00:00:00 UTC");
        assert_eq!(UnixTime(951_782_400).to_string(), "2000-02-29 00:00:00 UTC");
        assert_eq!(
            UnixTime(1_700_000_000).to_string(),
            "2023-11-14 22:13:20 UTC"
        );
        assert_eq!(
            UnixTime(4_102_444_799).to_string(),
            "2099-12-31 23:59:59 UTC"
        );
    }

    #[test]
    fn negative_timestamps_clamp_to_epoch() {
        assert_eq!(UnixTime::from_i64(-5), UnixTime(0));
        assert_eq!(UnixTime::from_i64(42), UnixTime(42));
    }
}
