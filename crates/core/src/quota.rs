//! A principal's limits and where it stands against them: requests a minute, seconds of audio a
//! day, concurrent live sessions. The counts live in the metadata database (shared by every
//! replica); the arithmetic and the refusals are pure functions here.
use crate::{Error, ErrorCode, Result};

/// What a key (or a token standing for one) may use; `None`: unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub requests_per_minute: Option<u32>,
    /// Seconds of audio transcribed or synthesized a day (UTC calendar days).
    pub audio_seconds_per_day: Option<u32>,
    pub live_sessions: Option<u32>,
}

impl Limits {
    /// Whether requests need a meter: an audio quota or a cap on live sessions.
    pub fn metered(&self) -> bool {
        self.audio_seconds_per_day.is_some() || self.live_sessions.is_some()
    }
}

/// The limits a principal is counted against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Requests,
    Audio,
    Live,
}

impl Policy {
    /// The policy's name in the IETF `RateLimit-Policy` / `RateLimit` fields.
    pub fn name(self) -> &'static str {
        match self {
            Self::Requests => "minute",
            Self::Audio => "audio-day",
            Self::Live => "live",
        }
    }

    /// The kind of its counts in the usage table.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Audio => "audio_seconds",
            Self::Live => "live_sessions",
        }
    }

    /// Its window: calendar minutes and UTC days, the same on every replica; `None` for a count
    /// of what is open now.
    pub fn window_ms(self) -> Option<i64> {
        match self {
            Self::Requests => Some(60_000),
            Self::Audio => Some(86_400_000),
            Self::Live => None,
        }
    }

    /// The start of `now_ms`'s window (0 for a policy without one).
    pub fn window_start(self, now_ms: i64) -> i64 {
        self.window_ms().map_or(0, |w| now_ms - now_ms.rem_euclid(w))
    }

    /// Seconds from `now_ms` to the next window (a live session is asked to retry in 5 s).
    pub fn reset_secs(self, now_ms: i64) -> u32 {
        self.window_ms().map_or(5, |w| ((w - now_ms.rem_euclid(w)) as f64 / 1000.0).ceil() as u32)
    }
}

/// Where a principal stands against one limit, as the IETF RateLimit fields carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitState {
    pub policy: Policy,
    pub quota: u64,
    pub remaining: u64,
    /// Seconds until the window resets (or until a retry may find room).
    pub reset_secs: u32,
}

impl LimitState {
    /// `used` (this request's amount included) against `quota` at `now_ms`: the state, or
    /// `rate_limited` carrying it when `used` passes the quota.
    pub fn of(policy: Policy, quota: u64, used: u64, now_ms: i64) -> Result<Self> {
        let state = Self::at(policy, quota, used, now_ms);
        if used <= quota {
            return Ok(state);
        }
        Err(state.refusal())
    }

    /// Where `used` leaves a principal with `quota` at `now_ms`.
    pub fn at(policy: Policy, quota: u64, used: u64, now_ms: i64) -> Self {
        Self { policy, quota, remaining: quota.saturating_sub(used), reset_secs: policy.reset_secs(now_ms) }
    }

    /// The `rate_limited` error of a spent limit, saying which and when to come back.
    pub fn refusal(self) -> Error {
        let message = match self.policy {
            Policy::Requests => {
                format!("more than {} requests this minute: retry in {} s", self.quota, self.reset_secs)
            }
            Policy::Audio => format!(
                "today's {} s of audio are used ({} s left): retry in {} s, after 00:00 UTC",
                self.quota, self.remaining, self.reset_secs
            ),
            Policy::Live => format!("{} live sessions are open already: end one first", self.quota),
        };
        Error::new(ErrorCode::RateLimited, message).with_limit(self)
    }

    /// `RateLimit-Policy` (`"name";q=quota;w=window`) and `RateLimit` (`"name";r=left;t=reset`).
    pub fn fields(&self) -> (String, String) {
        let name = self.policy.name();
        let policy = match self.policy.window_ms() {
            Some(w) => format!("\"{name}\";q={};w={}", self.quota, w / 1000),
            None => format!("\"{name}\";q={}", self.quota),
        };
        (policy, format!("\"{name}\";r={};t={}", self.remaining, self.reset_secs))
    }
}

/// Seconds of speech a text is metered for before it is synthesized: 15 characters a second,
/// about the pace of the voices here (a refusal must come before the work, when the speech's
/// length is not yet known).
pub fn speech_seconds(text: &str) -> f64 {
    (text.chars().count() as f64 / 15.0).max(1.0)
}

/// Whole seconds of audio a request is metered for (a started second counts).
pub fn metered_seconds(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 { seconds.ceil() as u64 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_calendar_minutes_and_utc_days() {
        let day = 20_000 * 86_400_000;
        let at = day + 3_600_000 + 12_345; // 01:00:12.345 UTC
        assert_eq!(Policy::Requests.window_start(at), at - 12_345);
        assert_eq!(Policy::Requests.reset_secs(at), 48);
        assert_eq!(Policy::Audio.window_start(at), day);
        assert_eq!(Policy::Audio.reset_secs(at), 23 * 3600 - 12);
        assert_eq!((Policy::Live.window_start(at), Policy::Live.reset_secs(at)), (0, 5));
    }

    #[test]
    fn states_and_refusals() {
        let at = 28_883_333 * 60_000 + 12_345;
        let s = LimitState::of(Policy::Requests, 10, 3, at).expect("under");
        assert_eq!((s.quota, s.remaining, s.reset_secs), (10, 7, 48));
        assert_eq!(LimitState::of(Policy::Requests, 10, 10, at).map(|s| s.remaining).ok(), Some(0));
        let e = LimitState::of(Policy::Requests, 10, 11, at).expect_err("over");
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.message.contains("retry in 48 s"), "{e}");
        let limit = e.limit.expect("the refusal carries its limit");
        assert_eq!(limit.fields(), ("\"minute\";q=10;w=60".into(), "\"minute\";r=0;t=48".into()));
        let audio = LimitState::of(Policy::Audio, 60, 75, at).expect_err("over");
        assert!(audio.message.contains("60 s of audio"), "{audio}");
        assert_eq!(audio.limit.map(|l| l.fields().0), Some("\"audio-day\";q=60;w=86400".into()));
        let live = LimitState::at(Policy::Live, 2, 2, at).refusal();
        // A request larger than what is left says what is left.
        let short = LimitState::at(Policy::Audio, 60, 55, at).refusal();
        assert!(short.message.contains("(5 s left)"), "{short}");
        assert_eq!(short.limit.map(|l| l.remaining), Some(5));
        assert_eq!(live.limit.map(|l| l.fields()), Some(("\"live\";q=2".into(), "\"live\";r=0;t=5".into())));
    }

    #[test]
    fn a_started_second_counts() {
        let cases = [(0.0, 0), (0.2, 1), (1.0, 1), (59.01, 60), (-3.0, 0), (f64::NAN, 0), (f64::INFINITY, 0)];
        for (secs, want) in cases {
            assert_eq!(metered_seconds(secs), want, "{secs}");
        }
    }
}
