//! Pure policies of streaming recognition: when speech starts and ends (endpointing over VAD
//! scores) and which words of an interim hypothesis are committed (local agreement).
pub mod agreement;
pub mod endpoint;

pub use agreement::{Hypothesis, LocalAgreement};
pub use endpoint::{EndpointConfig, Endpointer, VadEvent};
