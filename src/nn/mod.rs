//! Neural networks in Segno: the ONNX Runtime wrapper ([`runtime`]), learned frame embeddings
//! ([`embed`]) and `.npy` files for the training pipeline ([`npy`]).

pub mod embed;
pub mod npy;
pub mod runtime;

pub use runtime::{runtime, Device, Model, RuntimeError};
