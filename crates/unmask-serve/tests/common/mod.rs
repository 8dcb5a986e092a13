//! What the server tests share: one server per test binary over tiny trained models, face-api's
//! demo photos with masks drawn on them, and a small HTTP client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::backend::Flex;
use image::RgbImage;
use unmask_detect::{Detector, FaceFinder};
use unmask_photo::{UnmaskSettings, Unmasker};
use unmask_serve::{ServeConfig, Server};
use unmask_weights::{WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

#[path = "../../../../tests/support/tiny_gan.rs"]
mod gan;
#[path = "../../../../tests/support/tiny_models.rs"]
mod models;

pub struct Fixture {
    pub addr: SocketAddr,
    /// A demo photo with masks drawn on every face, as a PNG file, and its pixels.
    pub worn_png: PathBuf,
    pub worn: RgbImage,
    /// The same photo bare, as a PNG file.
    pub bare_png: PathBuf,
    pub bare: RgbImage,
    pub dir: PathBuf,
}

/// The server every test of this binary talks to: SSD faces, a segmenter and a GAN trained
/// for a few steps. The tiny segmenter's marks are not a real mask's, so the coverage check
/// is off (`min_coverage` 0) unless a request asks for it.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_dead_fixtures(&tmp);
        let dir = tmp.join(format!("unmask-serve-fixture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data = models::tiny_pairs(&dir, 32);
        let (seg, gan_dir) = (dir.join("train-seg"), dir.join("train-inpaint"));
        models::tiny_segmenter_epochs(&data, &seg, 300, 300);
        gan::tiny_gan(&data, &gan_dir, 2);

        let store = WeightStore::from_env().unwrap();
        let photo = store
            .package_file(&FACE_API, &FACE_API_DEMO_PHOTOS[1])
            .unwrap();
        let bare = unmask_detect::read_photo(&photo).unwrap();
        let device = Default::default();
        let finder = FaceFinder::<Flex>::load(&store, Detector::Ssd, &device).unwrap();
        let (_, points) = finder.find(&bare, 0.5).unwrap();
        assert!(!points.is_empty(), "the demo photo has faces");
        let worn = unmask_photo::wear_masks(&bare, &points, &Default::default(), 7, "demo", &[]);
        let (worn_png, bare_png) = (dir.join("worn.png"), dir.join("bare.png"));
        worn.image.save(&worn_png).unwrap();
        bare.save(&bare_png).unwrap();

        let settings = UnmaskSettings {
            min_coverage: 0.0,
            ..Default::default()
        };
        // Every test of the binary shares the server, so none waits for a place.
        let config = ServeConfig {
            port: 0,
            max_upload_bytes: 8 << 20,
            max_photos: 64,
            ..Default::default()
        };
        let server = Server::start(&config, move || {
            Unmasker::<Flex>::load(&store, Detector::Ssd, &seg, &gan_dir, settings, &device)
        })
        .unwrap();
        let addr = server.addr;
        // The server lives as long as the test binary.
        std::mem::forget(server);
        Fixture {
            addr,
            worn_png,
            worn: worn.image,
            bare_png,
            bare,
            dir,
        }
    })
}

/// Removes the fixture folders of test processes that have ended (a static fixture is never
/// dropped, so each run would leave one behind).
fn remove_dead_fixtures(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("unmask-serve-fixture-") else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// One part of a multipart form.
pub enum Part<'a> {
    File {
        name: &'a str,
        file_name: &'a str,
        bytes: Vec<u8>,
    },
    Text {
        name: &'a str,
        value: String,
    },
}

pub fn file<'a>(name: &'a str, file_name: &'a str, bytes: Vec<u8>) -> Part<'a> {
    Part::File {
        name,
        file_name,
        bytes,
    }
}

pub fn text<'a>(name: &'a str, value: impl Into<String>) -> Part<'a> {
    Part::Text {
        name,
        value: value.into(),
    }
}

/// A response: status and JSON body.
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
}

/// Posts a multipart form to `url`.
pub fn post_form(url: &str, parts: &[Part]) -> Reply {
    let boundary = "unmask-test-boundary-7f3a9c";
    let mut body = Vec::new();
    for part in parts {
        body.extend(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::File {
                name,
                file_name,
                bytes,
            } => {
                body.extend(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend(bytes);
            }
            Part::Text { name, value } => {
                body.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}")
                        .as_bytes(),
                );
            }
        }
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    let request = ureq::post(url).set(
        "Content-Type",
        &format!("multipart/form-data; boundary={boundary}"),
    );
    reply(request.send_bytes(&body))
}

pub fn get(url: &str) -> Reply {
    reply(ureq::get(url).call())
}

pub fn reply(result: Result<ureq::Response, ureq::Error>) -> Reply {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("no HTTP response: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("status {status}, not JSON: {text:.200}"));
    Reply { status, body }
}

/// A reply body for a failure message, without the megabytes of its images.
pub fn short(body: &serde_json::Value) -> String {
    let text = body.to_string();
    text.chars().take(600).collect()
}

/// Decodes a `data:image/png;base64,...` URL.
pub fn data_url_image(url: &str) -> image::DynamicImage {
    use base64::Engine as _;
    let b64 = url
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    image::load_from_memory(&bytes).unwrap()
}

pub fn png_bytes(img: &image::DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}
