//! The wire contracts: code generated from `proto/*.proto`, and conversions to `sokuji-core`
//! domain types. Only this crate and the gateway know wire formats; engines never see them.
#![allow(clippy::all)] // generated code

pub mod convert;
pub mod envelope;

pub mod common {
    tonic::include_proto!("sokuji.common");
}

pub mod embedding {
    tonic::include_proto!("sokuji.embedding");
}

/// The archive's events, version 1.
pub mod events {
    tonic::include_proto!("sokuji.events.v1");
}

pub mod live {
    tonic::include_proto!("sokuji.live");
}

pub mod stt {
    tonic::include_proto!("sokuji.stt");
}

pub mod text {
    tonic::include_proto!("sokuji.text");
}

pub mod translation {
    tonic::include_proto!("sokuji.translation");
}

pub mod tts {
    tonic::include_proto!("sokuji.tts");
}

/// Encoded `FileDescriptorSet` of every contract, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sokuji_descriptor.bin"));
