//! Neural networks in Segno: the ONNX Runtime wrapper ([`runtime`]), learned frame embeddings
//! ([`embed`]), pitch salience from basic-pitch ([`salience`]) and `.npy` files for the training
//! pipeline ([`npy`]).

pub mod deep_chroma;
pub mod embed;
pub mod npy;
pub mod runtime;
pub mod salience;

pub use runtime::{runtime, Device, Model, RuntimeError};
