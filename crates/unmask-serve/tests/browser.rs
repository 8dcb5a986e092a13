//! The page in a real browser (Debian's headless Chromium, driven through chromedriver): a
//! demo photo with drawn masks uploaded through the file input and its result shown; a brush
//! stroke painted on one face and that face re-run; the displayed result changed where
//! painted and nowhere else. Screenshots are kept under `target/tmp/browser/`.

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

use common::{data_url_image, fixture};
use image::RgbImage;
use serde_json::json;
use webdriver::Browser;

/// The stage's pixels (the canvas at the photo's resolution), as shown.
fn shown(browser: &Browser) -> RgbImage {
    let url = browser.run(
        "return document.getElementById('view').toDataURL('image/png');",
        json!([]),
    );
    data_url_image(url.as_str().unwrap()).into_rgb8()
}

/// `true` where `mask` is set or within `margin` pixels of it (a square neighbourhood).
fn grown(mask: &[bool], w: usize, h: usize, margin: usize) -> Vec<bool> {
    let mut rows = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let (lo, hi) = (x.saturating_sub(margin), (x + margin).min(w - 1));
            rows[y * w + x] = (lo..=hi).any(|i| mask[y * w + i]);
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        let (lo, hi) = (y.saturating_sub(margin), (y + margin).min(h - 1));
        for x in 0..w {
            out[y * w + x] = (lo..=hi).any(|j| rows[j * w + x]);
        }
    }
    out
}

#[test]
fn the_page_unmasks_a_photo_and_reruns_a_face_after_a_brush_stroke() {
    let f = fixture();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&out).unwrap();
    let Some(browser) = Browser::start(&out.join(format!("profile-{}", std::process::id()))) else {
        return;
    };
    browser.goto(&format!("http://{}/", f.addr));
    let input = browser.find("#files");
    browser.send_keys(&input, f.worn_png.to_str().unwrap());
    browser.wait_until(
        "the photo's result",
        "return !!document.querySelector('#photos li.done');",
        Duration::from_secs(120),
    );
    browser.screenshot(&out.join("1-unmasked.png"));
    let faces = browser.run("return current.result.faces.length;", json!([]));
    assert!(faces.as_u64().unwrap() >= 1, "faces listed: {faces}");
    let listed = browser.run(
        "return document.querySelectorAll('#faces li').length;",
        json!([]),
    );
    assert_eq!(listed, faces, "every face has its entry in the panel");

    // What is shown without the overlays is the server's result.
    browser.click("#show-masks");
    let before = shown(&browser);
    let result = browser.run("return current.result.image;", json!([]));
    assert!(
        data_url_image(result.as_str().unwrap()).into_rgb8() == before,
        "the stage shows the result"
    );
    assert!(before != f.worn, "something was unmasked");

    // A stroke across face 1's forehead, where the segmenter found no mask.
    let face = browser.run("return current.result.faces[0];", json!([]));
    let b = &face["box"];
    let n = |k: &str| b[k].as_f64().unwrap();
    let (bx, by, bw, bh) = (n("x"), n("y"), n("width"), n("height"));
    let (sy, sx0, sx1) = (by + 0.12 * bh, bx + 0.25 * bw, bx + 0.75 * bw);
    browser.click("#faces li[data-face='0']");
    let selected = browser.run("return selected;", json!([]));
    assert_eq!(selected, json!(0), "clicking the entry selects the face");
    let zoomed = browser.run("return view.style.transform;", json!([]));
    assert!(
        zoomed.as_str().unwrap().contains("scale"),
        "and zooms to it: {zoomed}"
    );
    let rect = browser.run(
        "const r = view.getBoundingClientRect(); return [r.left, r.top, r.width, view.width];",
        json!([]),
    );
    let r: Vec<f64> = rect
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let scale = r[2] / r[3]; // CSS px per photo px
    let to_view = |x: f64, y: f64| (r[0] + x * scale, r[1] + y * scale);
    let points: Vec<(f64, f64)> = (0..=10)
        .map(|k| to_view(sx0 + (sx1 - sx0) * k as f64 / 10.0, sy))
        .collect();
    browser.drag(&points);
    let edited = browser.run("return [...current.edited];", json!([]));
    assert_eq!(edited, json!([0]), "the stroke edits face 1's mask");
    browser.run(
        "window.resultBefore = current.result; return true;",
        json!([]),
    );
    browser.click("#rerun");
    browser.wait_until(
        "the re-run's result",
        "return current.result !== window.resultBefore && !busy;",
        Duration::from_secs(120),
    );
    let after = shown(&browser);
    browser.click("#show-masks");
    browser.screenshot(&out.join("2-face-rerun.png"));
    let state = browser.run("return current.result.faces[0].mask_source;", json!([]));
    assert_eq!(state, "user", "the re-run used the painted mask");

    // The brush is 24 CSS px wide (the slider's default).
    let radius = 12.0 / scale;
    let (w, h) = (before.width() as usize, before.height() as usize);
    let on_stroke = |x: f64, y: f64, r: f64| {
        let px = x.clamp(sx0, sx1);
        (x - px).hypot(y - sy) <= r
    };
    // Where the fill may change: face 1's hole before (the segmenter's) and the stroke,
    // grown over the rim and feathered (a fifth of the face's width is ample), and nowhere
    // else in the photo: not the other faces, not the background.
    let mut hole = vec![false; w * h];
    let old_mask = &face["mask"];
    if old_mask.is_object() {
        let m = data_url_image(old_mask["image"].as_str().unwrap()).into_luma8();
        let (mx, my) = (
            old_mask["x"].as_u64().unwrap() as usize,
            old_mask["y"].as_u64().unwrap() as usize,
        );
        for (x, y, p) in m.enumerate_pixels() {
            if p.0[0] > 127 {
                hole[(my + y as usize) * w + mx + x as usize] = true;
            }
        }
    }
    for y in 0..h {
        for x in 0..w {
            if on_stroke(x as f64 + 0.5, y as f64 + 0.5, radius) {
                hole[y * w + x] = true;
            }
        }
    }
    let allowed = grown(&hole, w, h, (0.2 * bw) as usize + 4);
    let (mut core, mut core_changed) = (0, 0);
    for (x, y, p) in after.enumerate_pixels() {
        let changed = p != before.get_pixel(x, y);
        let (xi, yi) = (x as usize, y as usize);
        assert!(
            !changed || allowed[yi * w + xi],
            "pixel ({x}, {y}) changed away from the painted face"
        );
        if on_stroke(x as f64 + 0.5, y as f64 + 0.5, radius - 2.0) {
            core += 1;
            core_changed += changed as usize;
        }
    }
    assert!(core > 0);
    assert!(
        core_changed * 2 > core,
        "only {core_changed} of the {core} pixels under the stroke changed"
    );
}
