//! The two date forms SigV4 uses, written without allocating.

use super::error::SigningError;
use std::time::{SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;

/// A signing time as `YYYYMMDD'T'HHMMSS'Z'` (the `X-Amz-Date` form); its first eight bytes are the
/// date of the credential scope.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub struct AmzDate([u8; 16]);

impl AmzDate {
    /// Formats `time` in UTC. Times before 1970 or after 9999 are rejected, not wrapped.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let date = edge_signer::sigv4::AmzDate::new(UNIX_EPOCH + Duration::from_secs(1_440_938_160)).unwrap();
    /// assert_eq!(date.date_time(), "20150830T123600Z");
    /// assert_eq!(date.date(), "20150830");
    /// ```
    pub fn new(time: SystemTime) -> Result<Self, SigningError> {
        let since_epoch = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| SigningError::InvalidTime)?;
        let seconds = i64::try_from(since_epoch.as_secs()).map_err(|_| SigningError::InvalidTime)?;
        let utc = OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| SigningError::InvalidTime)?;
        let year = u32::try_from(utc.year()).map_err(|_| SigningError::InvalidTime)?;
        if year > 9999 {
            return Err(SigningError::InvalidTime);
        }
        let ([y1, y2], [y3, y4]) = (pair(year / 100), pair(year % 100));
        let [mo1, mo2] = pair(u32::from(u8::from(utc.month())));
        let [d1, d2] = pair(u32::from(utc.day()));
        let [h1, h2] = pair(u32::from(utc.hour()));
        let [mi1, mi2] = pair(u32::from(utc.minute()));
        let [s1, s2] = pair(u32::from(utc.second()));
        Ok(Self([
            y1, y2, y3, y4, mo1, mo2, d1, d2, b'T', h1, h2, mi1, mi2, s1, s2, b'Z',
        ]))
    }

    /// `YYYYMMDDTHHMMSSZ`.
    pub fn date_time(&self) -> &str {
        // Only ASCII digits, 'T' and 'Z' are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// `YYYYMMDD`, the date of the credential scope.
    pub fn date(&self) -> &str {
        &self.date_time()[..8]
    }

    /// The bytes of [`AmzDate::date`], for a comparison that needs no UTF-8 check.
    pub(crate) fn date_bytes(&self) -> &[u8] {
        self.0.get(..8).unwrap_or_default()
    }
}

/// "00" to "99", so that a date is written with one load per two digits instead of a division
/// per digit.
const PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// The two digits of `value`, below 100.
fn pair(value: u32) -> [u8; 2] {
    PAIRS.get(value as usize).copied().unwrap_or(*b"00")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_leap_day_and_day_boundary() {
        let t = UNIX_EPOCH + Duration::from_secs(951_868_799); // 2000-02-29T23:59:59Z
        assert_eq!(AmzDate::new(t).unwrap().date_time(), "20000229T235959Z");
        let next = AmzDate::new(t + Duration::from_secs(1)).unwrap();
        assert_eq!(next.date_time(), "20000301T000000Z");
    }

    #[test]
    fn rejects_times_outside_four_digit_years() {
        assert_eq!(
            AmzDate::new(UNIX_EPOCH - Duration::from_secs(1)),
            Err(SigningError::InvalidTime)
        );
        let far = UNIX_EPOCH + Duration::from_secs(253_402_300_800); // 10000-01-01
        assert_eq!(AmzDate::new(far), Err(SigningError::InvalidTime));
        assert!(AmzDate::new(far - Duration::from_secs(1)).is_ok());
    }
}
