//! Neural networks in Segno: the ONNX Runtime wrapper ([`runtime`]).

pub mod npy;
pub mod runtime;

pub use runtime::{runtime, Device, Model, RuntimeError};
