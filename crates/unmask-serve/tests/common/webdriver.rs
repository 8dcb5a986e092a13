//! Just enough of the W3C WebDriver protocol to drive Debian's headless Chromium through
//! chromedriver: open a page, send a file to an input, click, run a script, move the pointer,
//! take a screenshot.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    session: String,
    base: String,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile under `profile`.
    /// `None` when either is not installed and `UNMASK_BROWSER_TESTS` is not `require`
    /// (CI installs both and sets it; `.ci/run`).
    pub fn start(profile: &Path) -> Option<Self> {
        let installed = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
        if !installed {
            let required = std::env::var("UNMASK_BROWSER_TESTS").is_ok_and(|v| v == "require");
            assert!(
                !required,
                "UNMASK_BROWSER_TESTS=require but {CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
            );
            eprintln!(
                "skipped: no {CHROMIUM} / {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let (driver, base) = start_driver();
        std::fs::create_dir_all(profile).unwrap();
        // The flags that keep Chromium off the (closed) network and out of a sandbox that
        // root cannot use.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,900",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let mut browser = Self {
            driver,
            session: String::new(),
            base,
        };
        let reply = browser.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            }}}),
        );
        browser.session = reply["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        Some(browser)
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let result = match method {
            "GET" => ureq::get(&url).call(),
            "DELETE" => ureq::delete(&url).call(),
            _ => ureq::post(&url)
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "WebDriver {method} {path}: {code}: {}",
                    r.into_string().unwrap_or_default()
                )
            }
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        };
        let reply: Value = serde_json::from_str(&response.into_string().unwrap()).unwrap();
        reply["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", json!({ "url": url }));
    }

    /// The element `css` selects (the first one).
    pub fn find(&self, css: &str) -> String {
        let found = self.session_call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        found[ELEMENT].as_str().expect("an element").to_string()
    }

    /// Types `text` into an element: for a file input, the file's path.
    pub fn send_keys(&self, element: &str, text: &str) {
        self.session_call(
            "POST",
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        );
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.session_call("POST", &format!("/element/{element}/click"), json!({}));
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// Waits until `script` returns `true`.
    pub fn wait_until(&self, what: &str, script: &str, timeout: Duration) {
        let started = Instant::now();
        while self.run(script, json!([])) != json!(true) {
            assert!(started.elapsed() < timeout, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses the mouse at the first viewport point, drags through the others, releases.
    pub fn drag(&self, points: &[(f64, f64)]) {
        let mut actions = vec![];
        for (k, &(x, y)) in points.iter().enumerate() {
            actions.push(
                json!({"type": "pointerMove", "duration": 0, "origin": "viewport",
                "x": x.round() as i64, "y": y.round() as i64}),
            );
            if k == 0 {
                actions.push(json!({"type": "pointerDown", "button": 0}));
            }
        }
        actions.push(json!({"type": "pointerUp", "button": 0}));
        self.session_call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse",
                "parameters": {"pointerType": "mouse"}, "actions": actions}]}),
        );
    }

    pub fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let png = self.session_call("GET", "/screenshot", json!({}));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// chromedriver on a free port: the port is picked by binding it and letting go, so another
/// process can take it in between; a driver that does not answer is retried on another.
fn start_driver() -> (Child, String) {
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if ureq::get(&format!("{base}/status")).call().is_ok() {
                return (driver, base);
            }
            if driver.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = driver.kill();
        let _ = driver.wait();
    }
    panic!("chromedriver did not start on any of three ports");
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = ureq::delete(&url).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
