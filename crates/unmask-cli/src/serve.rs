//! `unmask serve`: the web app and HTTP API (`unmask-serve`) over the same models and
//! settings as `unmask PHOTO`.

use std::net::IpAddr;

use anyhow::Result;
use unmask_kernels::KernelBackend;
use unmask_serve::{ServeConfig, Server};
use unmask_train::{backend::infer_on, InferJob};

use crate::options::{ModelOptions, UnmaskerArgs, UnmaskerModels};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The address to listen on. Anyone who can reach it can use the server (there is no
    /// login), so it is the loopback address unless you say otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Uploads larger than this many megabytes are refused before decoding.
    #[arg(long, default_value_t = 32)]
    pub max_upload_mb: usize,
    /// Photos the server holds at once (being uploaded, waiting or unmasked); past it a
    /// request gets 503 at once.
    #[arg(long, default_value_t = 4)]
    pub max_photos: usize,
    #[command(flatten)]
    pub unmasker: UnmaskerArgs,
    #[command(flatten)]
    pub options: ModelOptions,
}

pub fn run(args: &ServeArgs) -> Result<()> {
    anyhow::ensure!(
        args.max_upload_mb >= 1,
        "--max-upload-mb must be at least 1"
    );
    anyhow::ensure!(args.max_photos >= 1, "--max-photos must be at least 1");
    let max_upload_bytes = args
        .max_upload_mb
        .checked_mul(1 << 20)
        .ok_or_else(|| anyhow::anyhow!("--max-upload-mb {} is too large", args.max_upload_mb))?;
    let config = ServeConfig {
        host: args.host,
        port: args.port,
        max_upload_bytes,
        max_photos: args.max_photos,
    };
    let models = args.unmasker.resolve(&args.options.runs)?;
    infer_on(args.options.device, Job { config, models })
}

struct Job {
    config: ServeConfig,
    models: UnmaskerModels,
}

impl InferJob for Job {
    type Output = ();
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<()> {
        let Job { config, models } = self;
        eprintln!(
            "loading the models: GAN {}, segmenter {}",
            models.gan.display(),
            models.seg.display()
        );
        let server = Server::start(&config, move || models.load::<B>(&device))?;
        if !config.host.is_loopback() {
            eprintln!(
                "warning: listening on {}: anyone who can reach this address can use the server",
                config.host
            );
        }
        eprintln!(
            "unmask serve: open http://{} (Ctrl-C stops it)",
            server.addr
        );
        server.wait()
    }
}
