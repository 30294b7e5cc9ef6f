//! Resampling (to 16 kHz for the recognizers, to a client's rate for speech out), whole buffers
//! or a stream of chunks, with rubato's FFT resampler.
use rubato::{FftFixedIn, Resampler};
use sokuji_core::{Error, Result, SAMPLE_RATE};

const CHUNK: usize = 1024;

/// Resamples mono chunks of one stream (to 16 kHz unless made with `between`); keeps the filter
/// state and the leftover input between calls so that chunk boundaries leave no seams.
pub struct StreamResampler {
    inner: Option<FftFixedIn<f32>>,
    pending: Vec<f32>,
    /// Output samples still to drop (the filter's delay).
    skip: usize,
    in_total: u64,
    out_total: u64,
    ratio: f64,
}

impl StreamResampler {
    pub fn new(from_rate: u32) -> Result<Self> {
        Self::between(from_rate, SAMPLE_RATE)
    }

    pub fn between(from_rate: u32, to_rate: u32) -> Result<Self> {
        let inner = if from_rate == to_rate {
            None
        } else {
            Some(FftFixedIn::new(from_rate as usize, to_rate as usize, CHUNK, 2, 1).map_err(|e| {
                Error::invalid_audio(format!("cannot resample from {from_rate} Hz to {to_rate} Hz: {e}"))
            })?)
        };
        let skip = inner.as_ref().map_or(0, |r| r.output_delay());
        Ok(Self {
            inner,
            pending: Vec::new(),
            skip,
            in_total: 0,
            out_total: 0,
            ratio: f64::from(to_rate) / f64::from(from_rate),
        })
    }

    /// Feeds input; returns whatever 16 kHz output is ready.
    pub fn push(&mut self, input: &[f32]) -> Vec<f32> {
        self.in_total += input.len() as u64;
        let Some(r) = self.inner.as_mut() else {
            self.out_total += input.len() as u64;
            return input.to_vec();
        };
        self.pending.extend_from_slice(input);
        let mut out = Vec::new();
        let mut used = 0;
        while self.pending.len() - used >= r.input_frames_next() {
            let n = r.input_frames_next();
            if let Ok(mut o) = r.process(&[&self.pending[used..used + n]], None) {
                out.append(&mut o[0]);
            }
            used += n;
        }
        self.pending.drain(..used);
        self.emit(out)
    }

    /// Flushes the tail: everything fed so far comes out, and exactly as many samples as the
    /// input's duration at 16 kHz.
    pub fn finish(&mut self) -> Vec<f32> {
        let want = (self.in_total as f64 * self.ratio).round() as u64;
        let mut out = Vec::new();
        let mut pending = std::mem::take(&mut self.pending);
        // Zero-padded partial chunks push the remaining samples through the filter delay.
        for _ in 0..64 {
            let Some(r) = self.inner.as_mut() else { break };
            if self.out_total >= want {
                break;
            }
            let input = if pending.is_empty() { None } else { Some(&[&pending[..]][..]) };
            let chunk = match r.process_partial(input, None) {
                Ok(mut o) => std::mem::take(&mut o[0]),
                Err(_) => break,
            };
            pending.clear();
            let chunk = self.emit(chunk);
            out.extend(chunk);
        }
        let excess = self.out_total.saturating_sub(want) as usize;
        out.truncate(out.len().saturating_sub(excess));
        self.out_total = want;
        out
    }

    fn emit(&mut self, mut out: Vec<f32>) -> Vec<f32> {
        let drop = self.skip.min(out.len());
        self.skip -= drop;
        out.drain(..drop);
        self.out_total += out.len() as u64;
        out
    }
}

/// Resamples a whole mono buffer to 16 kHz.
pub fn to_16k(samples: &[f32], from_rate: u32) -> Result<Vec<f32>> {
    convert(samples, from_rate, SAMPLE_RATE)
}

/// Resamples a whole mono buffer from one rate to another.
pub fn convert(samples: &[f32], from_rate: u32, to_rate: u32) -> Result<Vec<f32>> {
    let mut r = StreamResampler::between(from_rate, to_rate)?;
    let mut out = r.push(samples);
    out.extend(r.finish());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, hz: f32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn length_and_phase_survive() {
        for rate in [8_000, 22_050, 44_100, 48_000] {
            let out = to_16k(&sine(rate, 440.0, 1.0), rate).expect("resamples");
            assert_eq!(out.len(), 16_000, "from {rate}");
            // Compare with the ideal 440 Hz sine at 16 kHz away from the edges.
            let ideal = sine(16_000, 440.0, 1.0);
            let err: f32 = (2000..14000).map(|i| (out[i] - ideal[i]).abs()).fold(0.0, f32::max);
            assert!(err < 0.05, "from {rate}: max error {err}");
        }
    }

    #[test]
    fn any_rate_to_any_rate() {
        let out = convert(&sine(22_050, 440.0, 1.0), 22_050, 24_000).expect("resamples");
        assert_eq!(out.len(), 24_000);
        let ideal = sine(24_000, 440.0, 1.0);
        let err: f32 = (3000..21000).map(|i| (out[i] - ideal[i]).abs()).fold(0.0, f32::max);
        assert!(err < 0.05, "max error {err}");
    }

    #[test]
    fn chunked_equals_whole() {
        let input = sine(44_100, 300.0, 0.7);
        let whole = to_16k(&input, 44_100).expect("whole");
        let mut r = StreamResampler::new(44_100).expect("new");
        let mut chunked = Vec::new();
        for c in input.chunks(333) {
            chunked.extend(r.push(c));
        }
        chunked.extend(r.finish());
        assert_eq!(whole.len(), chunked.len());
        let diff = whole.iter().zip(&chunked).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff < 1e-4, "{diff}");
    }
}
