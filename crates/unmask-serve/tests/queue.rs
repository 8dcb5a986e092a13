//! The server's bounds with a stand-in engine that waits until told: a full server answers 503
//! at once, a queued job reports its place and a running one its step, and a panicking
//! engine fails only its own photo.

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use image::RgbImage;
use unmask_photo::{Progress, UnmaskSettings, Unmasked};
use unmask_serve::{Engine, Request, ServeConfig, Server};

mod common;
use common::{file, get, png_bytes, post_form, text};

/// Runs each photo only when `gate` gets a message; panics on a photo 1 px wide.
struct Gated {
    gate: Mutex<mpsc::Receiver<()>>,
}

impl Engine for Gated {
    fn settings(&self) -> UnmaskSettings {
        UnmaskSettings::default()
    }

    fn run(
        &self,
        request: &Request,
        progress: &mut dyn FnMut(Progress),
    ) -> anyhow::Result<Unmasked> {
        assert!(request.photo.width() > 1, "a photo 1 px wide");
        progress(Progress {
            done: 1,
            total: 3,
            step: "waiting at the gate".into(),
        });
        self.gate.lock().unwrap().recv().unwrap();
        Ok(Unmasked {
            image: request.photo.clone(),
            faces: vec![],
            filled: image::GrayImage::new(request.photo.width(), request.photo.height()),
            timings: Default::default(),
        })
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_full_server_refuses_at_once_and_queued_jobs_report_where_they_are() {
    let (open, gate) = mpsc::channel();
    let config = ServeConfig {
        port: 0,
        max_photos: 2,
        ..Default::default()
    };
    let server = Server::start(&config, move || {
        Ok(Gated {
            gate: Mutex::new(gate),
        })
    })
    .unwrap();
    let base = format!("http://{}", server.addr);
    let photo = png_bytes(&image::DynamicImage::ImageRgb8(RgbImage::new(8, 6)));
    let send = |job: &'static str| {
        let (url, photo) = (format!("{base}/api/unmask"), photo.clone());
        std::thread::spawn(move || {
            post_form(&url, &[file("image", "p.png", photo), text("job", job)])
        })
    };
    let progress = |job: &str| get(&format!("{base}/api/progress?job={job}"));

    let first = send("first");
    wait_for("the first job to run", || {
        progress("first").body["state"] == "running"
    });
    assert_eq!(progress("first").body["step"], "waiting at the gate");
    let second = send("second");
    wait_for("the second job to queue", || {
        progress("second").status == 200
    });
    let queued = progress("second").body;
    assert_eq!(queued["state"], "queued", "{queued}");
    assert_eq!(queued["ahead"], 1, "{queued}");

    // Two photos in the server: a third is refused now, not queued.
    let refused = post_form(
        &format!("{base}/api/unmask"),
        &[file("image", "p.png", photo.clone())],
    );
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.body["error"].as_str().unwrap().contains("busy"));
    assert_eq!(
        get(&format!("{base}/api/health")).body["photos_in_flight"],
        2
    );

    open.send(()).unwrap();
    open.send(()).unwrap();
    for job in [first, second] {
        let reply = job.join().unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["faces_found"], 0);
        assert!(reply.body["note"].as_str().unwrap().contains("no face"));
    }
    assert_eq!(progress("first").status, 404, "finished jobs are forgotten");

    // A panic in the engine fails that photo with a 500; the next photo is served.
    let thin = png_bytes(&image::DynamicImage::ImageRgb8(RgbImage::new(1, 6)));
    let failed = post_form(
        &format!("{base}/api/unmask"),
        &[file("image", "thin.png", thin)],
    );
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert!(
        failed.body["error"].as_str().unwrap().contains("1 px wide"),
        "{}",
        failed.body
    );
    let next = send("after");
    open.send(()).unwrap();
    assert_eq!(next.join().unwrap().status, 200);
}

#[test]
fn models_that_fail_to_load_fail_the_start() {
    let config = ServeConfig {
        port: 0,
        ..Default::default()
    };
    let err = Server::start(&config, || -> anyhow::Result<Gated> {
        anyhow::bail!("no segmenter in runs/x")
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("no segmenter"), "{err}");
}
