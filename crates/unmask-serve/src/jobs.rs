//! The job queue: one worker thread owns the models and unmasks one photo at a time (the
//! models' own kernels use every core), while the HTTP side only decodes and waits. The
//! number of photos in the server at once (running, waiting, or being uploaded) is bounded;
//! past it a request is refused at once rather than queued without end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use image::RgbImage;
use serde::Serialize;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use unmask_kernels::KernelBackend;
use unmask_photo::{Overrides, Progress, UnmaskSettings, Unmasked, Unmasker};

/// A decoded photo and what to do with it.
pub struct Request {
    pub photo: RgbImage,
    pub overrides: Overrides,
    pub settings: UnmaskSettings,
}

/// What runs a [`Request`]: the [`Unmasker`], or a stand-in in tests.
pub trait Engine: 'static {
    /// The settings a request starts from.
    fn settings(&self) -> UnmaskSettings;
    fn run(&self, request: &Request, progress: &mut dyn FnMut(Progress)) -> Result<Unmasked>;
}

impl<B: KernelBackend> Engine for Unmasker<B> {
    fn settings(&self) -> UnmaskSettings {
        self.settings.clone()
    }

    fn run(&self, request: &Request, progress: &mut dyn FnMut(Progress)) -> Result<Unmasked> {
        self.unmask_with(
            &request.photo,
            &request.overrides,
            &request.settings,
            progress,
        )
    }
}

/// Where a job is, for `GET /api/progress`.
#[derive(Clone, Debug, Serialize)]
pub struct JobStatus {
    /// `queued` or `running`.
    pub state: &'static str,
    /// Jobs ahead of this one, the running one included (0 once it runs).
    pub ahead: u64,
    #[serde(flatten)]
    pub progress: Option<Progress>,
}

struct Task {
    id: Option<String>,
    seq: u64,
    request: Request,
    /// The request's place, given back with the result: a client that goes away does not
    /// free it while its photo still waits here.
    slot: Slot,
    reply: oneshot::Sender<Done>,
}

/// A job's result, and its place in the server (held until the reply is sent).
pub struct Done {
    pub result: Result<Unmasked>,
    pub slot: Slot,
}

/// The handle the HTTP side holds.
#[derive(Clone)]
pub struct Queue {
    /// Behind the status lock, so that sequence numbers follow the order jobs are queued in.
    tasks: Arc<Mutex<Inbox>>,
    slots: Arc<Semaphore>,
    capacity: usize,
    status: Arc<Mutex<HashMap<String, (u64, JobStatus)>>>,
    started: Arc<AtomicU64>,
    defaults: UnmaskSettings,
}

/// A place in the server, held from the request's first byte to its reply.
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

struct Inbox {
    sender: mpsc::Sender<Task>,
    /// Jobs queued so far.
    submitted: u64,
}

/// Why [`Queue::submit`] refused a job.
#[derive(Debug)]
pub enum Refused {
    /// Another job in flight has this id.
    IdInUse,
    /// The worker has stopped (it failed to load, or panicked).
    Stopped,
}

impl Queue {
    /// Starts the worker, which builds its engine with `load` (models need not be `Send`:
    /// they are made and used on the worker's own thread). Returns once they are loaded, with
    /// `load`'s error if they could not be. At most `capacity` photos are in the server at
    /// once.
    pub fn start<E: Engine>(
        capacity: usize,
        load: impl FnOnce() -> Result<E> + Send + 'static,
    ) -> Result<Self> {
        anyhow::ensure!(capacity >= 1, "the queue must hold at least one photo");
        let (tasks, inbox) = mpsc::channel::<Task>();
        let (loaded, ready) = mpsc::channel();
        let status: Arc<Mutex<HashMap<String, (u64, JobStatus)>>> = Arc::default();
        let started = Arc::new(AtomicU64::new(0));
        let (worker_status, worker_started) = (status.clone(), started.clone());
        std::thread::Builder::new()
            .name("unmask-worker".into())
            .spawn(move || {
                let engine = match load() {
                    Ok(engine) => {
                        let _ = loaded.send(Ok(engine.settings()));
                        engine
                    }
                    Err(e) => {
                        let _ = loaded.send(Err(e));
                        return;
                    }
                };
                for task in inbox {
                    worker_started.store(task.seq, Ordering::SeqCst);
                    // A client that went away while its photo waited is not worked for.
                    let result = if task.reply.is_closed() {
                        Err(anyhow::anyhow!("the client went away"))
                    } else {
                        run_task(&engine, &task, &worker_status)
                    };
                    if let Some(id) = &task.id {
                        worker_status.lock().unwrap().remove(id);
                    }
                    let done = Done {
                        result,
                        slot: task.slot,
                    };
                    // The client may have gone; its result and place go with it.
                    let _ = task.reply.send(done);
                }
            })?;
        let defaults = ready
            .recv()
            .map_err(|_| anyhow::anyhow!("the worker stopped while loading the models"))??;
        Ok(Self {
            tasks: Arc::new(Mutex::new(Inbox {
                sender: tasks,
                submitted: 0,
            })),
            slots: Arc::new(Semaphore::new(capacity)),
            capacity,
            status,
            started,
            defaults,
        })
    }

    /// The settings a request starts from (the server's).
    pub fn defaults(&self) -> &UnmaskSettings {
        &self.defaults
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Photos in the server now.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    /// A place for one more photo, or `None` when the server is full.
    pub fn slot(&self) -> Option<Slot> {
        self.slots.clone().try_acquire_owned().ok().map(Slot)
    }

    /// Queues `request` with its [`Slot`]; the receiver gets its result and the slot back.
    pub fn submit(
        &self,
        id: Option<String>,
        request: Request,
        slot: Slot,
    ) -> Result<oneshot::Receiver<Done>, Refused> {
        let mut inbox = self.tasks.lock().unwrap();
        let mut status = self.status.lock().unwrap();
        if id.as_ref().is_some_and(|id| status.contains_key(id)) {
            return Err(Refused::IdInUse);
        }
        let seq = inbox.submitted + 1;
        let (reply, result) = oneshot::channel();
        let task = Task {
            id: id.clone(),
            seq,
            request,
            slot,
            reply,
        };
        inbox.sender.send(task).map_err(|_| Refused::Stopped)?;
        inbox.submitted = seq;
        if let Some(id) = id {
            let queued = JobStatus {
                state: "queued",
                ahead: 0,
                progress: None,
            };
            status.insert(id, (seq, queued));
        }
        Ok(result)
    }

    /// Where the job `id` is; `None` when no job in flight has that id.
    pub fn status(&self, id: &str) -> Option<JobStatus> {
        let (seq, mut status) = self.status.lock().unwrap().get(id)?.clone();
        if status.state == "queued" {
            // The running job (number `started`) and those queued before this one.
            status.ahead = seq.saturating_sub(self.started.load(Ordering::SeqCst));
        }
        Some(status)
    }
}

fn run_task<E: Engine>(
    engine: &E,
    task: &Task,
    status: &Mutex<HashMap<String, (u64, JobStatus)>>,
) -> Result<Unmasked> {
    let mut report = |progress: Progress| {
        if let Some(id) = &task.id {
            if let Some((_, s)) = status.lock().unwrap().get_mut(id) {
                s.state = "running";
                s.ahead = 0;
                s.progress = Some(progress);
            }
        }
    };
    // A panic in the models fails this photo, not the server.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.run(&task.request, &mut report)
    }))
    .unwrap_or_else(|panic| {
        anyhow::bail!(
            "the models failed on this photo: {}",
            unmask_core::panic_message(&*panic)
        )
    })
}
