//! Deterministic noise of the kinds a microphone hears when nobody speaks, at 16 kHz, and a
//! speech-like signal to tell them from: for the hallucination guard's tests.
const RATE: f32 = 16_000.0;

fn samples(secs: f32) -> usize {
    (secs * RATE) as usize
}

/// Hiss: uniform white noise in [-1, 1] (xorshift, seeded).
pub fn white(secs: f32, seed: u32) -> Vec<f32> {
    let mut s = seed.max(1);
    (0..samples(secs))
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as f32 / u32::MAX as f32 * 2.0 - 1.0
        })
        .collect()
}

/// Fans and rain: white noise through Paul Kellet's economy pink filter.
pub fn pink(secs: f32) -> Vec<f32> {
    let (mut b0, mut b1, mut b2) = (0f32, 0f32, 0f32);
    white(secs, 11)
        .into_iter()
        .map(|w| {
            b0 = 0.99765 * b0 + w * 0.0990460;
            b1 = 0.96300 * b1 + w * 0.2965164;
            b2 = 0.57000 * b2 + w * 1.0526913;
            b0 + b1 + b2 + w * 0.1848
        })
        .collect()
}

/// Rumble: a leaky random walk, its energy below a few hundred hertz and wandering in level.
pub fn brown(secs: f32) -> Vec<f32> {
    let mut acc = 0f32;
    white(secs, 23)
        .into_iter()
        .map(|w| {
            acc = (acc + w * 0.02) * 0.998;
            acc
        })
        .collect()
}

/// Mains hum at 50 Hz with its harmonics.
pub fn hum(secs: f32) -> Vec<f32> {
    (0..samples(secs))
        .map(|i| {
            let f = |hz: f32| (2.0 * std::f32::consts::PI * hz * i as f32 / RATE).sin();
            0.5 * f(50.0) + 0.3 * f(100.0) + 0.2 * f(150.0) + 0.1 * f(250.0)
        })
        .collect()
}

/// Syllables: a harmonic voice swelling and fading four times a second, with pauses.
pub fn syllables(secs: f32) -> Vec<f32> {
    (0..samples(secs))
        .map(|i| {
            let t = i as f32 / RATE;
            let tone = |hz: f32| (2.0 * std::f32::consts::PI * hz * t).sin();
            (std::f32::consts::PI * 4.0 * t).sin().max(0.0).powi(2) * (tone(140.0) + 0.5 * tone(280.0))
        })
        .collect()
}

/// The signal scaled to an RMS level in dBFS (clipped to [-1, 1]).
pub fn at_dbfs(x: Vec<f32>, db: f32) -> Vec<f32> {
    let rms = (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt().max(1e-9);
    let g = 10f32.powf(db / 20.0) / rms;
    x.into_iter().map(|v| (v * g).clamp(-1.0, 1.0)).collect()
}

/// Two signals summed, sample by sample.
pub fn mix(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}
