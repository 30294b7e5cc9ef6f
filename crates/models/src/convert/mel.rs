//! Whisper's mel filter bank (80 or 128 bands over a 400-point FFT at 16 kHz, Slaney mel scale
//! and area normalization, as librosa builds it). The packages do not ship it; it is computed.

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

pub fn hz_to_mel(f: f64) -> f64 {
    if f < MIN_LOG_HZ { f / F_SP } else { MIN_LOG_MEL + (f / MIN_LOG_HZ).ln() / log_step() }
}

pub fn mel_to_hz(m: f64) -> f64 {
    if m < MIN_LOG_MEL { F_SP * m } else { MIN_LOG_HZ * (log_step() * (m - MIN_LOG_MEL)).exp() }
}

/// Row-major `n_mels × (n_fft/2 + 1)` filter weights.
pub fn filters(sample_rate: f64, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins).map(|k| k as f64 * sample_rate / n_fft as f64).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(sample_rate / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2).map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64)).collect();
    let mut w = vec![0f32; n_mels * bins];
    for i in 0..n_mels {
        let (f0, f1, f2) = (mel_f[i], mel_f[i + 1], mel_f[i + 2]);
        let enorm = 2.0 / (f2 - f0);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - f0) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            w[i * bins + k] = (lower.min(upper).max(0.0) * enorm) as f32;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_round_trips_and_is_linear_below_1khz() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6);
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
    }

    #[test]
    fn bank_shape() {
        let w = filters(16_000.0, 400, 80);
        assert_eq!(w.len(), 80 * 201);
        for i in 0..80 {
            let row = &w[i * 201..(i + 1) * 201];
            assert!(row.iter().all(|x| *x >= 0.0));
            assert!(row.iter().any(|x| *x > 0.0), "band {i} is empty");
            // Triangles: weights rise to one peak, then fall.
            let peak = row.iter().enumerate().fold(0, |p, (k, x)| if *x > row[p] { k } else { p });
            assert!(row[..peak].windows(2).all(|p| p[0] <= p[1]) && row[peak..].windows(2).all(|p| p[0] >= p[1]));
        }
        // Slaney normalization: the 25 Hz bin spacing times each band's weights integrates to ~1
        // for bands wide enough to be sampled well.
        let area: f32 = w[60 * 201..61 * 201].iter().sum::<f32>() * 40.0;
        assert!((area - 1.0).abs() < 0.05, "{area}");
        // Spot values of the bank OpenAI ships (whisper/assets/mel_filters.npz, mel_80).
        let check = |band: usize, bin: usize, want: f32| {
            let got = w[band * 201 + bin];
            assert!((got - want).abs() < 1e-6, "[{band},{bin}] = {got}, want {want}");
        };
        check(1, 0, 0.0);
        check(1, 1, 0.001_990_82);
        check(1, 2, 0.022_871_77);
        check(1, 3, 0.0);
        check(79, 195, 0.002_243_8);
        check(79, 199, 0.000_448_76);
        check(79, 200, 0.0);
    }
}
