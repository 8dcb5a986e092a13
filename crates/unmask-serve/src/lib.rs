//! `unmask serve`: a local web app over [`unmask_photo::Unmasker`].
//!
//! - [`jobs`]: the model worker and its bounded queue.
//! - [`api`]: the routes (`/`, `/api/health`, `/api/progress`, `/api/unmask`).
//! - `form`: the upload form, each field checked; `error`: JSON errors with 4xx/5xx statuses.
//! - `assets`: the page (HTML, CSS, JS), embedded in the binary: no build step, no files
//!   served from disk.

pub mod api;
mod assets;
mod error;
mod form;
pub mod jobs;

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, Result};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

pub use jobs::{Engine, Queue, Request};

/// Where and how much to serve.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub host: IpAddr,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Request bodies past this are refused with 413 before any decoding.
    pub max_upload_bytes: usize,
    /// Photos in the server at once (being uploaded, waiting or running); past it, 503.
    pub max_photos: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            max_upload_bytes: 32 << 20,
            max_photos: 4,
        }
    }
}

/// A server answering on [`Server::addr`] from its own threads.
pub struct Server {
    pub addr: SocketAddr,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl Server {
    /// Loads the engine (on the worker thread), binds, and starts answering. Errors from
    /// loading or binding come back here, before anything is served.
    pub fn start<E: Engine>(
        config: &ServeConfig,
        load: impl FnOnce() -> Result<E> + Send + 'static,
    ) -> Result<Self> {
        anyhow::ensure!(
            config.max_upload_bytes > 0,
            "the upload limit must be above 0"
        );
        let queue = Queue::start(config.max_photos, load)?;
        let listener = std::net::TcpListener::bind((config.host, config.port))
            .with_context(|| format!("cannot listen on {}:{}", config.host, config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let router = api::router(queue, config.max_upload_bytes);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            // Decoding and encoding run here; the models have their own thread.
            .max_blocking_threads(config.max_photos + 1)
            .enable_io()
            .enable_time()
            .thread_name("unmask-http")
            .build()?;
        let thread = std::thread::Builder::new()
            .name("unmask-serve".into())
            .spawn(move || runtime.block_on(accept(listener, router)))?;
        Ok(Self { addr, thread })
    }

    /// Serves until the process ends (or the listener fails).
    pub fn wait(self) -> Result<()> {
        self.thread.join().map_err(|p| {
            anyhow::anyhow!("the server panicked: {}", unmask_core::panic_message(&*p))
        })?
    }
}

async fn accept(listener: std::net::TcpListener, router: axum::Router) -> Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            // Out of file descriptors and the like: wait, then go on serving.
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
}
