//! A session's audio, metered against its caller's daily allowance as it is heard: taken ahead
//! a block at a time (one database write per block, not per chunk), so a refusal comes before
//! the audio past the allowance is transcribed.
use sokuji_core::{Result, auth::Meter};

/// Seconds taken from the allowance at a time.
const BLOCK_SECS: f64 = 10.0;

#[derive(Default)]
pub struct Allowance {
    meter: Option<Meter>,
    taken: f64,
    heard: f64,
    /// A block was refused: the day has less than a block left, so only what is needed is asked.
    short: bool,
}

impl Allowance {
    pub fn new(meter: Option<Meter>) -> Self {
        Self { meter, ..Self::default() }
    }

    /// Covers `secs` more of heard audio, or refuses (`rate_limited`) when the allowance has
    /// less left than they need.
    pub async fn cover(&mut self, secs: f64) -> Result<()> {
        let Some(meter) = &self.meter else { return Ok(()) };
        let heard = self.heard + secs.max(0.0);
        let need = heard - self.taken;
        if need > 0.0 {
            // A whole block while there is room for one; then exactly what is needed.
            let (need, block) = (need.ceil(), need.max(BLOCK_SECS).ceil());
            let take = if !self.short && block > need {
                match meter.audio(block).await {
                    Ok(()) => block,
                    Err(_) => {
                        self.short = true;
                        meter.audio(need).await.map(|()| need)?
                    }
                }
            } else {
                meter.audio(need).await.map(|()| need)?
            };
            self.taken += take;
        }
        self.heard = heard;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_core::{
        ErrorCode,
        auth::{Authenticator, Principal},
        quota::Limits,
    };
    use std::sync::{Arc, Mutex};

    /// A day's allowance of `left` seconds, recording every take.
    struct Day {
        left: Mutex<u64>,
        takes: Mutex<Vec<u64>>,
        asks: Mutex<usize>,
    }

    #[async_trait::async_trait]
    impl Authenticator for Day {
        async fn authenticate(&self, _: Option<&str>, _: Option<sokuji_core::auth::Access>) -> Result<Principal> {
            Ok(Principal::anonymous())
        }
        async fn meter_audio(&self, _: &Principal, seconds: u64) -> Result<()> {
            *self.asks.lock().expect("lock") += 1;
            let mut left = self.left.lock().expect("lock");
            if seconds > *left {
                return Err(sokuji_core::Error::new(ErrorCode::RateLimited, "used up"));
            }
            *left -= seconds;
            self.takes.lock().expect("lock").push(seconds);
            Ok(())
        }
    }

    #[tokio::test]
    async fn blocks_are_taken_ahead_until_the_day_is_used() {
        let day = Arc::new(Day { left: Mutex::new(25), takes: Mutex::new(Vec::new()), asks: Mutex::new(0) });
        let principal = Principal {
            limits: Limits { audio_seconds_per_day: Some(25), ..Default::default() },
            ..Principal::anonymous()
        };
        let mut a = Allowance::new(Some(Meter { principal, auth: day.clone() }));
        for _ in 0..20 {
            a.cover(1.0).await.expect("within the first two blocks");
        }
        assert_eq!(*day.takes.lock().expect("lock"), vec![10, 10], "two blocks for 20 chunks");
        for _ in 0..5 {
            a.cover(1.0).await.expect("the last 5 s, taken as needed once no block fits");
        }
        let e = a.cover(0.5).await.expect_err("the day is used");
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert_eq!(*day.takes.lock().expect("lock"), vec![10, 10, 1, 1, 1, 1, 1]);
        // Once a block was refused no other is asked for: one request per chunk, not two.
        assert_eq!(*day.asks.lock().expect("lock"), 2 + 1 + 5 + 1, "{:?}", day.takes);
        // Without a meter nothing is counted.
        assert!(Allowance::new(None).cover(1e9).await.is_ok());
    }
}
