//! `unmask serve`'s HTTP API as a client uses it: a demo photo in, faces out; a mask the user
//! supplies used in place of the segmenter's; a bare photo back unchanged; bad uploads refused
//! with a 400 and the reason while the server keeps serving; per-request settings checked.

mod common;
use common::{data_url_image, file, fixture, get, png_bytes, post_form, read, short, text};

fn unmask_url() -> String {
    format!("http://{}/api/unmask", fixture().addr)
}

#[test]
fn a_masked_demo_photo_comes_back_with_its_faces_unmasked() {
    let f = fixture();
    let reply = post_form(
        &unmask_url(),
        &[file("image", "worn.png", read(&f.worn_png))],
    );
    assert_eq!(reply.status, 200, "{}", short(&reply.body));
    let body = &reply.body;
    assert!(
        body["faces_found"].as_u64().unwrap() >= 1,
        "{}",
        short(body)
    );
    assert!(
        body["faces_unmasked"].as_u64().unwrap() >= 1,
        "{}",
        short(body)
    );
    for face in body["faces"].as_array().unwrap() {
        assert_eq!(face["landmarks"].as_array().unwrap().len(), 68);
        assert_eq!(face["mask_source"], "segmenter");
        assert!(face["reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(face["box"]["width"].as_f64().unwrap() > 0.0);
    }
    let out = data_url_image(body["image"].as_str().unwrap()).into_rgb8();
    assert_eq!(out.dimensions(), f.worn.dimensions());
    assert_ne!(out, f.worn, "an unmasked face changes pixels");
    // Every changed pixel lies inside the mask region the reply names for its face.
    let regions: Vec<(u32, u32, u32, u32)> = body["faces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|face| face["unmasked"] == true)
        .map(|face| {
            let m = &face["mask"];
            let n = |k: &str| m[k].as_u64().unwrap() as u32;
            (n("x"), n("y"), n("x") + n("width"), n("y") + n("height"))
        })
        .collect();
    // The filled hole is the mask grown over its rim and feathered: allow 40 px.
    let near = |x: u32, y: u32| {
        regions
            .iter()
            .any(|&(x0, y0, x1, y1)| x + 40 >= x0 && x < x1 + 40 && y + 40 >= y0 && y < y1 + 40)
    };
    for (x, y, p) in out.enumerate_pixels() {
        if p != f.worn.get_pixel(x, y) {
            assert!(
                near(x, y),
                "pixel ({x}, {y}) changed outside every face's mask"
            );
        }
    }
}

#[test]
fn a_mask_from_the_user_replaces_the_segmenters_for_the_faces_it_names() {
    let f = fixture();
    let auto = post_form(
        &unmask_url(),
        &[file("image", "worn.png", read(&f.worn_png))],
    );
    assert_eq!(auto.status, 200);
    let faces = auto.body["faces"].as_array().unwrap().clone();
    // A square on face 0's nose and mouth.
    let b = &faces[0]["box"];
    let (bx, by, bw, bh) = (
        b["x"].as_f64().unwrap(),
        b["y"].as_f64().unwrap(),
        b["width"].as_f64().unwrap(),
        b["height"].as_f64().unwrap(),
    );
    let (x0, y0) = ((bx + 0.3 * bw) as u32, (by + 0.5 * bh) as u32);
    let (x1, y1) = ((bx + 0.7 * bw) as u32, (by + 0.8 * bh) as u32);
    let (w, h) = f.worn.dimensions();
    let square = image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
            255
        } else {
            0
        }])
    });
    let mut parts = vec![
        file("image", "worn.png", read(&f.worn_png)),
        file(
            "mask",
            "mask.png",
            png_bytes(&image::DynamicImage::ImageLuma8(square.clone())),
        ),
        text("mask_faces", "0"),
    ];
    let others: Vec<String> = (1..faces.len()).map(|i| i.to_string()).collect();
    if !others.is_empty() {
        parts.push(text("off", others.join(",")));
    }
    let reply = post_form(&unmask_url(), &parts);
    assert_eq!(reply.status, 200, "{}", short(&reply.body));
    let face = &reply.body["faces"][0];
    assert_eq!(face["mask_source"], "user", "{}", short(face));
    assert_eq!(face["unmasked"], true);
    assert!(face["reason"].as_str().unwrap().contains("user"));
    for other in &reply.body["faces"].as_array().unwrap()[1..] {
        assert_eq!(other["unmasked"], false);
        assert_eq!(other["choice"], "off");
        assert_eq!(other["mask_source"], "segmenter");
        assert!(other["reason"].as_str().unwrap().contains("turned off"));
    }
    // Only the square (grown over its rim and feathered) changed.
    let out = data_url_image(reply.body["image"].as_str().unwrap()).into_rgb8();
    let margin = (0.15 * bw) as u32;
    let mut inside_changed = 0;
    for (x, y, p) in out.enumerate_pixels() {
        let changed = p != f.worn.get_pixel(x, y);
        let near = x + margin >= x0 && x < x1 + margin && y + margin >= y0 && y < y1 + margin;
        assert!(
            !changed || near,
            "pixel ({x}, {y}) changed away from the user's mask"
        );
        if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
            inside_changed += changed as u64;
        }
    }
    let area = ((x1 - x0) * (y1 - y0)) as u64;
    assert!(
        inside_changed * 2 > area,
        "{inside_changed} of {area} changed"
    );

    // The same square as face 0's own mask (`face_mask_0`) fills the same hole.
    let mut own = vec![
        file("image", "worn.png", read(&f.worn_png)),
        file(
            "face_mask_0",
            "face0.png",
            png_bytes(&image::DynamicImage::ImageLuma8(square)),
        ),
    ];
    if !others.is_empty() {
        own.push(text("off", others.join(",")));
    }
    let again = post_form(&unmask_url(), &own);
    assert_eq!(again.status, 200, "{}", short(&again.body));
    assert_eq!(again.body["faces"][0]["mask_source"], "user");
    let same = data_url_image(again.body["image"].as_str().unwrap()).into_rgb8();
    assert!(
        same == out,
        "face_mask_0 and mask + mask_faces=0 fill alike"
    );
}

#[test]
fn a_bare_photo_left_alone_comes_back_bit_for_bit() {
    let f = fixture();
    // Asking for every pixel at 99% leaves every face alone, with the reason.
    let reply = post_form(
        &unmask_url(),
        &[
            file("image", "bare.png", read(&f.bare_png)),
            text("min_coverage", "1"),
            text("sure_probability", "0.99"),
        ],
    );
    assert_eq!(reply.status, 200, "{}", short(&reply.body));
    assert!(reply.body["faces_found"].as_u64().unwrap() >= 1);
    assert_eq!(reply.body["faces_unmasked"], 0, "{}", short(&reply.body));
    assert!(reply.body["note"].as_str().unwrap().contains("unchanged"));
    for face in reply.body["faces"].as_array().unwrap() {
        assert!(
            face["reason"].as_str().unwrap().contains("mouth and chin") || face["mask_area"] == 0.0
        );
    }
    let out = data_url_image(reply.body["image"].as_str().unwrap()).into_rgb8();
    assert!(out == f.bare, "the bare photo changed");
}

/// A little deterministic generator, so a failing case can be named and rerun.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn two_hundred_bad_uploads_each_get_a_400_and_the_server_keeps_serving() {
    let f = fixture();
    let png = read(&f.bare_png);
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(f.bare.clone())
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let mut rng = Lcg(2026);
    let mut cases: Vec<(String, Vec<u8>, &str)> = Vec::new();
    for k in 0..68 {
        let len = 1 + rng.below(5000);
        let bytes = (0..len).map(|_| rng.next() as u8).collect();
        cases.push((format!("random{k}.jpg"), bytes, ""));
    }
    for k in 0..50 {
        // Cut before the end-of-image marker.
        let cut = 2 + rng.below(jpeg.len() - 4);
        cases.push((format!("cut{k}.jpg"), jpeg[..cut].to_vec(), ""));
    }
    for k in 0..40 {
        // Cut inside the image data (a PNG cut after its last data chunk could still decode).
        let cut = 8 + rng.below(png.len() * 9 / 10 - 8);
        cases.push((format!("cut{k}.png"), png[..cut].to_vec(), ""));
    }
    for k in 0..30 {
        // A damaged signature.
        let mut bytes = if k % 2 == 0 {
            png.clone()
        } else {
            jpeg.clone()
        };
        let at = rng.below(3);
        bytes[at] ^= 0x5a;
        cases.push((format!("damaged{k}.png"), bytes, ""));
    }
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let mut huge = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::new(7100, 7100))
        .write_to(
            &mut std::io::Cursor::new(&mut huge),
            image::ImageFormat::Png,
        )
        .unwrap();
    for (name, bytes, why) in [
        ("empty.png", vec![], "empty file"),
        (
            "notes.txt",
            b"hello, this is not a photo".to_vec(),
            "not an image",
        ),
        (
            "page.png",
            b"<html><body>hi</body></html>".to_vec(),
            "not a PNG",
        ),
        ("anim.gif", gif, "GIF images are not supported"),
        ("huge.png", huge, "megapixels"),
    ] {
        cases.push((name.to_string(), bytes, why));
    }
    // Forms that are wrong in another way than the photo.
    let mut form_cases = 0;
    for (parts, why) in [
        (vec![text("job", "x")], "no `image` field"),
        (
            vec![
                file("image", "p.png", png.clone()),
                text("min_coverage", "lots"),
            ],
            "field `min_coverage`",
        ),
        (
            vec![
                file("image", "p.png", png.clone()),
                text("on", "0"),
                text("off", "0"),
            ],
            "named twice",
        ),
        (
            vec![file("image", "p.png", png.clone()), text("shape", "round")],
            "unknown field `shape`",
        ),
        (
            vec![
                file("image", "p.png", png.clone()),
                file(
                    "mask",
                    "m.png",
                    png_bytes(&image::DynamicImage::ImageLuma8(image::GrayImage::new(
                        5, 5,
                    ))),
                ),
            ],
            "must be the photo's size",
        ),
        (
            vec![file("image", "p.png", png.clone()), text("mask_faces", "0")],
            "no `mask` was sent",
        ),
        (
            vec![file("image", "p.png", png.clone()), text("off", "99")],
            "there is no face 99",
        ),
    ] {
        let reply = post_form(&unmask_url(), &parts);
        assert_eq!(reply.status, 400, "{why}: {}", short(&reply.body));
        let error = reply.body["error"].as_str().unwrap();
        assert!(error.contains(why), "expected `{why}` in: {error}");
        form_cases += 1;
    }
    assert!(
        cases.len() + form_cases >= 200,
        "{} cases",
        cases.len() + form_cases
    );
    for (name, bytes, why) in &cases {
        let reply = post_form(&unmask_url(), &[file("image", name, bytes.clone())]);
        assert_eq!(reply.status, 400, "{name}: {}", short(&reply.body));
        let error = reply.body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(name.as_str()),
            "{name}: the error names the upload: {error}"
        );
        assert!(error.contains(why), "{name}: expected `{why}` in: {error}");
    }
    let health = get(&format!("http://{}/api/health", f.addr));
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
}

/// Sends `request` as it is over a plain TCP connection (no client library tidying the path)
/// and returns the status and the body.
fn raw(request: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(fixture().addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    // The server may answer and close before it has read all of a refused body.
    let _ = stream.write_all(request);
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&reply);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&reply).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn an_upload_over_the_limit_is_refused_before_it_is_read() {
    let f = fixture();
    // The fixture's server takes 8 MiB. Declared larger: refused from the headers alone,
    // with nothing of the body sent.
    let (status, body) = raw(
        b"POST /api/unmask HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 9437184\r\n\r\n",
    );
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("larger than"), "{body}");
    // Sent without a length (chunked): refused once the limit is passed.
    let mut request = b"POST /api/unmask HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let part =
        b"--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\n\r\n";
    request.extend(format!("{:x}\r\n", part.len()).as_bytes());
    request.extend(part);
    request.extend(b"\r\n");
    let block = vec![0u8; 1 << 20];
    for _ in 0..9 {
        request.extend(format!("{:x}\r\n", block.len()).as_bytes());
        request.extend(&block);
        request.extend(b"\r\n");
    }
    let (status, body) = raw(&request);
    assert_eq!(status, 413, "{body}");
    assert_eq!(get(&format!("http://{}/api/health", f.addr)).status, 200);
}

#[test]
fn every_error_is_json_with_its_status() {
    let f = fixture();
    let reply = common::reply(ureq::post(&unmask_url()).send_string("just text"));
    assert_eq!(reply.status, 400, "{}", short(&reply.body));
    assert!(reply.body["error"]
        .as_str()
        .unwrap()
        .contains("multipart form"));
    let reply = get(&unmask_url());
    assert_eq!(reply.status, 405, "{}", short(&reply.body));
    let reply = get(&format!("http://{}/api/progress", f.addr));
    assert_eq!(reply.status, 400, "{}", short(&reply.body));
    let reply = get(&format!("http://{}/api/progress?job=nobody", f.addr));
    assert_eq!(reply.status, 404, "{}", short(&reply.body));
    // A page of another site posting through the user's browser is refused.
    let cross = ureq::post(&unmask_url())
        .set("Origin", "http://evil.example")
        .set("Content-Type", "multipart/form-data; boundary=b")
        .send_string("--b--\r\n");
    let reply = common::reply(cross);
    assert_eq!(reply.status, 403, "{}", short(&reply.body));
    assert!(reply.body["error"]
        .as_str()
        .unwrap()
        .contains("other sites"));
}

#[test]
fn the_page_is_served_and_nothing_from_disk() {
    let f = fixture();
    let page = ureq::get(&format!("http://{}/", f.addr)).call().unwrap();
    assert_eq!(page.content_type(), "text/html");
    assert!(page.into_string().unwrap().contains("/app.js"));
    for path in ["/app.js", "/style.css"] {
        let r = ureq::get(&format!("http://{}{path}", f.addr))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    for path in [
        "/Cargo.toml",
        "/assets/app.js",
        "/api/nothing",
        "/etc/passwd",
    ] {
        let reply = get(&format!("http://{}{path}", f.addr));
        assert_eq!(reply.status, 404, "{path}");
        assert!(reply.body["error"].as_str().is_some());
    }
    // Paths as a client may send them, untidied.
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/..%2fCargo.toml",
        "//etc/passwd",
        "/app.js/../../Cargo.toml",
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (status, body) = raw(request.as_bytes());
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("[package]"), "{path}");
    }
}
