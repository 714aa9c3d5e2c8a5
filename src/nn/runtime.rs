//! ONNX Runtime, loaded at run time, and models on the best device the machine has.
//!
//! The library is not linked: Segno looks for `libonnxruntime` (taken from the `onnxruntime`
//! wheel by `cargo xtask setup`, shipped next to the plugin in the bundles) and, if it is missing
//! or broken, says why and keeps working with the classical features. Models run on a GPU
//! execution provider when one registers (CUDA, TensorRT, DirectML, CoreML, as the platform has
//! them) and on the CPU otherwise; the provider in use is reported, and a GPU that was asked for
//! but could not be used is named in the fallback message.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use ort::ep::ExecutionProviderDispatch;
use ort::logging::LogLevel;
use ort::session::{IoBinding, Session};
use ort::value::Tensor;

use crate::resources::{
    self, Resources, DEVICE_ENV, ONNXRUNTIME_ENV, ONNXRUNTIME_LOG_ENV, ONNXRUNTIME_NAMES,
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "ONNX Runtime was not found (looked for {names} in {searched}). Run `cargo xtask setup`, or name the library with {ONNXRUNTIME_ENV}; Segno uses its classical features meanwhile"
    )]
    NotFound { names: String, searched: String },
    #[error("ONNX Runtime at {path} could not be loaded ({message}); Segno uses its classical features meanwhile")]
    Load { path: PathBuf, message: String },
    #[error("{path}: cannot load the model: {message}")]
    Model { path: PathBuf, message: String },
    #[error("the model failed to run: {0}")]
    Run(String),
    #[error("{file} is not in the models folder ({searched}): `cargo xtask models` trains it")]
    MissingModel { file: String, searched: String },
    #[error("unknown device '{0}': choose auto, cpu, cuda, tensorrt, directml or coreml")]
    UnknownDevice(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// The first GPU provider that registers, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
    TensorRt,
    DirectMl,
    CoreMl,
}

impl FromStr for Device {
    type Err = RuntimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|d| d.name() == lower)
            .ok_or_else(|| RuntimeError::UnknownDevice(s.to_owned()))
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "CPU",
            Self::Cuda => "CUDA",
            Self::TensorRt => "TensorRT",
            Self::DirectMl => "DirectML",
            Self::CoreMl => "CoreML",
        })
    }
}

impl Device {
    pub const ALL: [Self; 6] = [
        Self::Auto,
        Self::Cpu,
        Self::Cuda,
        Self::TensorRt,
        Self::DirectMl,
        Self::CoreMl,
    ];

    /// The name it is chosen by (`--nn-device`, `SEGNO_DEVICE`, a project's saved analysis).
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::TensorRt => "tensorrt",
            Self::DirectMl => "directml",
            Self::CoreMl => "coreml",
        }
    }

    /// The device named by `SEGNO_DEVICE`, or `auto`.
    pub fn from_env() -> Result<Self, RuntimeError> {
        resources::setting(DEVICE_ENV).map_or(Ok(Self::Auto), |v| v.parse())
    }

    /// GPU providers to try, in order.
    fn gpu_candidates(self) -> Vec<Device> {
        match self {
            Self::Auto => {
                let mut all = vec![Self::Cuda, Self::TensorRt];
                if cfg!(target_os = "windows") {
                    all.push(Self::DirectMl);
                }
                if cfg!(target_os = "macos") {
                    all.push(Self::CoreMl);
                }
                all
            }
            Self::Cpu => vec![],
            gpu => vec![gpu],
        }
    }

    fn provider(self) -> Option<ExecutionProviderDispatch> {
        let ep = match self {
            Self::Cuda => ort::ep::CUDA::default().build(),
            Self::TensorRt => ort::ep::TensorRT::default().build(),
            Self::DirectMl => ort::ep::DirectML::default().build(),
            Self::CoreMl => ort::ep::CoreML::default().build(),
            Self::Auto | Self::Cpu => return None,
        };
        Some(ep.error_on_failure())
    }
}

/// The loaded library and its environment (one per process, as ONNX Runtime requires).
pub struct Runtime {
    pub library: PathBuf,
    environment: ort::environment::Environment,
}

static RUNTIME: OnceLock<Result<Runtime, RuntimeError>> = OnceLock::new();

/// The process's ONNX Runtime, loaded on first use from where [`Resources::default`] finds it.
pub fn runtime() -> Result<&'static Runtime, &'static RuntimeError> {
    runtime_in(&Resources::default())
}

/// The process's ONNX Runtime; the first call of the process loads it from where `resources`
/// finds it (a plugin calls this with its install folder before loading any model).
/// The model file `file` in `resources`' models folders, or why not.
pub fn model_in(resources: &Resources, file: &str) -> Result<PathBuf, RuntimeError> {
    resources
        .model(file)
        .ok_or_else(|| RuntimeError::MissingModel {
            file: file.into(),
            searched: resources
                .model_folders()
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

pub fn runtime_in(resources: &Resources) -> Result<&'static Runtime, &'static RuntimeError> {
    RUNTIME.get_or_init(|| load(resources)).as_ref()
}

fn find_library(resources: &Resources) -> Result<PathBuf, RuntimeError> {
    resources
        .onnxruntime()
        .map_err(|dirs| RuntimeError::NotFound {
            names: ONNXRUNTIME_NAMES.join(" or "),
            searched: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// ONNX Runtime's own messages from this level up reach stderr (`SEGNO_ONNXRUNTIME_LOG`, default
/// warnings): a plugin host's log is no place for its dozens of lines of session details.
fn log_level() -> LogLevel {
    match resources::setting(ONNXRUNTIME_LOG_ENV).as_deref() {
        Some("verbose") => LogLevel::Verbose,
        Some("info") => LogLevel::Info,
        Some("error") => LogLevel::Error,
        Some("fatal") => LogLevel::Fatal,
        _ => LogLevel::Warning,
    }
}

fn load(resources: &Resources) -> Result<Runtime, RuntimeError> {
    let library = find_library(resources)?;
    let load_error = |message: String| RuntimeError::Load {
        path: library.clone(),
        message,
    };
    if !library.is_file() {
        return Err(load_error("no such file".into()));
    }
    let builder = ort::init_from(&library).map_err(|e| load_error(e.to_string()))?;
    let level = log_level();
    let logger: ort::logging::LoggerFunction = Arc::new(move |l, _category, _id, _at, message| {
        if l >= level {
            eprintln!("ONNX Runtime ({l:?}): {message}");
        }
    });
    let environment = builder
        .with_name("segno")
        .with_logger(logger)
        .build()
        .map_err(|e| load_error(e.to_string()))?;
    environment.set_log_level(level);
    Ok(Runtime {
        library,
        environment,
    })
}

/// A model ready to run, and where it runs.
/// A session's preallocated input and output (see [`Model::bind`]).
struct Bound {
    binding: IoBinding,
    input: Tensor<f32>,
}

pub struct Model {
    session: Session,
    bound: Option<Bound>,
    /// The execution provider in use ("CPU", "CUDA", …).
    pub device: Device,
    /// Why a GPU that was asked for (or tried by `auto`) is not in use; `None` if none was.
    pub fallback: Option<String>,
    pub path: PathBuf,
}

impl Model {
    pub fn load(path: &Path, device: Device) -> Result<Model, RuntimeError> {
        Self::load_with_threads(path, device, 0)
    }

    /// As [`load`](Self::load), running on at most `threads` CPU threads (0: ONNX Runtime's choice,
    /// all cores). A follower wants 1: one frame at a time gains nothing from more, and the
    /// audio host needs the other cores.
    pub fn load_with_threads(
        path: &Path,
        device: Device,
        threads: usize,
    ) -> Result<Model, RuntimeError> {
        let rt = runtime().map_err(RuntimeError::clone)?;
        let builder = || {
            let b = Session::builder(&rt.environment)?;
            if threads == 0 {
                return Ok(b);
            }
            b.with_intra_threads(threads)
                .map_err(|e| -> ort::Error { e.into() })
        };
        let model_error = |message: String| RuntimeError::Model {
            path: path.to_owned(),
            message,
        };
        let mut reasons = Vec::new();
        for gpu in device.gpu_candidates() {
            let provider = gpu.provider().expect("GPU devices have providers");
            let session = builder()
                .and_then(|b| b.with_execution_providers([provider]).map_err(Into::into))
                .and_then(|mut b| b.commit_from_file(path));
            match session {
                Ok(session) => {
                    return Ok(Model {
                        session,
                        bound: None,
                        device: gpu,
                        fallback: None,
                        path: path.to_owned(),
                    })
                }
                Err(e) => reasons.push(format!("{gpu}: {}", first_line(&e.to_string()))),
            }
        }
        let session = builder()
            .and_then(|mut b| b.commit_from_file(path))
            .map_err(|e| model_error(e.to_string()))?;
        let fallback = (device != Device::Cpu && !reasons.is_empty()).then(|| {
            format!(
                "no GPU execution provider could be used ({}); running on the CPU",
                reasons.join("; ")
            )
        });
        Ok(Model {
            session,
            bound: None,
            device: Device::Cpu,
            fallback,
            path: path.to_owned(),
        })
    }

    /// Runs the model on one `f32` input of `shape`; returns the first output, flattened, and its
    /// shape.
    pub fn run(
        &mut self,
        shape: &[usize],
        input: &[f32],
    ) -> Result<(Vec<usize>, Vec<f32>), RuntimeError> {
        self.run_output(shape, input, 0)
    }

    /// As [`run`](Self::run), returning output number `output` (see [`output_index`](Self::output_index)).
    pub fn run_output(
        &mut self,
        shape: &[usize],
        input: &[f32],
        output: usize,
    ) -> Result<(Vec<usize>, Vec<f32>), RuntimeError> {
        let tensor =
            ort::value::TensorRef::from_array_view((shape.to_vec(), input)).map_err(run_error)?;
        let outputs = self.session.run(ort::inputs![tensor]).map_err(run_error)?;
        flattened(&outputs[output])
    }

    /// Runs a model of two `f32` inputs, given in the model's order as (shape, values); returns
    /// output number `output`, flattened, and its shape.
    pub fn run_pair(
        &mut self,
        first: (&[usize], &[f32]),
        second: (&[usize], &[f32]),
        output: usize,
    ) -> Result<(Vec<usize>, Vec<f32>), RuntimeError> {
        let a = ort::value::TensorRef::from_array_view((first.0.to_vec(), first.1))
            .map_err(run_error)?;
        let b = ort::value::TensorRef::from_array_view((second.0.to_vec(), second.1))
            .map_err(run_error)?;
        let outputs = self.session.run(ort::inputs![a, b]).map_err(run_error)?;
        flattened(&outputs[output])
    }

    /// The names of the model's inputs, in order.
    pub fn input_names(&self) -> Vec<&str> {
        self.session.inputs().iter().map(|i| i.name()).collect()
    }

    /// Preallocates the input and first output for runs of exactly these shapes and binds them
    /// to the session, so that [`run_bound`](Self::run_bound) allocates no tensor: the path the
    /// follower takes for every live frame.
    pub fn bind(
        &mut self,
        input_shape: &[usize],
        output_shape: &[usize],
    ) -> Result<(), RuntimeError> {
        let allocator = ort::memory::Allocator::default();
        let input = Tensor::<f32>::new(&allocator, input_shape.to_vec()).map_err(run_error)?;
        let output = Tensor::<f32>::new(&allocator, output_shape.to_vec()).map_err(run_error)?;
        let mut binding = self.session.create_binding().map_err(run_error)?;
        binding
            .bind_input(self.session.inputs()[0].name(), &input)
            .map_err(run_error)?;
        binding
            .bind_output(self.session.outputs()[0].name(), output)
            .map_err(run_error)?;
        self.bound = Some(Bound { binding, input });
        Ok(())
    }

    /// Runs the bound model on `input` (the size [`bind`](Self::bind) was given) into `out`.
    pub fn run_bound(&mut self, input: &[f32], out: &mut [f32]) -> Result<(), RuntimeError> {
        let bound = self
            .bound
            .as_mut()
            .ok_or_else(|| RuntimeError::Run("the model was not bound (Model::bind)".into()))?;
        let (_, data) = bound.input.extract_tensor_mut();
        if data.len() != input.len() {
            return Err(RuntimeError::Run(format!(
                "input of {} values for a model bound to {}",
                input.len(),
                data.len()
            )));
        }
        data.copy_from_slice(input);
        let outputs = self
            .session
            .run_binding(&bound.binding)
            .map_err(run_error)?;
        let (_, result) = outputs[0].try_extract_tensor::<f32>().map_err(run_error)?;
        if result.len() != out.len() {
            return Err(RuntimeError::Run(format!(
                "output of {} values, {} expected",
                result.len(),
                out.len()
            )));
        }
        out.copy_from_slice(result);
        Ok(())
    }

    /// The position of the output named `name`.
    pub fn output_index(&self, name: &str) -> Option<usize> {
        self.session.outputs().iter().position(|o| o.name() == name)
    }

    pub fn input_name(&self) -> &str {
        self.session.inputs()[0].name()
    }

    pub fn input_shape(&self) -> Vec<Option<usize>> {
        self.session.inputs()[0]
            .dtype()
            .tensor_shape()
            .map(|s| s.iter().map(|&d| usize::try_from(d).ok()).collect())
            .unwrap_or_default()
    }

    /// A human-readable line for logs and the editor: "CPU", or "CUDA", plus any fallback reason.
    pub fn describe(&self) -> String {
        match &self.fallback {
            Some(f) => format!("{} ({f})", self.device),
            None => self.device.to_string(),
        }
    }
}

/// An `f32` output's shape and values.
fn flattened(output: &ort::value::DynValue) -> Result<(Vec<usize>, Vec<f32>), RuntimeError> {
    let (shape, data) = output.try_extract_tensor::<f32>().map_err(run_error)?;
    Ok((
        shape.iter().map(|&d| d.max(0) as usize).collect(),
        data.to_vec(),
    ))
}

fn run_error(e: ort::Error) -> RuntimeError {
    RuntimeError::Run(e.to_string())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
