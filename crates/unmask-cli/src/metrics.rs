//! `unmask metrics A B`: L1, hole L1, PSNR, SSIM, LPIPS and identity similarity between two
//! images.

use std::path::Path;

use anyhow::{bail, Context, Result};
use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use unmask_detect::recognition::{cosine_similarity, FaceRecognitionNet};
use unmask_metrics::{hole_l1, l1, psnr, ssim, to_vec, Lpips, LpipsNet};
use unmask_weights::WeightStore;

type B = Flex;

/// An image file as `[1, C, H, W]` in `[0, 1]` (RGB, or luma with `gray`), its size and the
/// decoded image.
fn load(path: &Path, gray: bool) -> Result<(Tensor<B, 4>, (u32, u32), image::DynamicImage)> {
    let img = image::open(path).with_context(|| format!("cannot read image {}", path.display()))?;
    let (w, h) = (img.width(), img.height());
    let (data, c) = if gray {
        (img.to_luma8().into_raw(), 1)
    } else {
        (img.to_rgb8().into_raw(), 3)
    };
    let hw = (h * w) as usize;
    let mut v = vec![0f32; c * hw];
    for (i, &p) in data.iter().enumerate() {
        let (pixel, ch) = (i / c, i % c);
        v[ch * hw + pixel] = p as f32 / 255.0;
    }
    let t = Tensor::from_data(
        TensorData::new(v, [1, c, h as usize, w as usize]),
        &burn::backend::flex::FlexDevice,
    );
    Ok((t, (w, h), img))
}

/// Which learned metrics `unmask metrics` computes.
pub struct Learned {
    pub lpips: bool,
    pub identity: bool,
}

pub fn run(a: &Path, b: &Path, mask: Option<&Path>, json: bool, learned: &Learned) -> Result<()> {
    let (ta, size_a, img_a) = load(a, false)?;
    let (tb, size_b, img_b) = load(b, false)?;
    if size_a != size_b {
        bail!(
            "{} is {}x{} but {} is {}x{}: the images must have the same size",
            a.display(),
            size_a.0,
            size_a.1,
            b.display(),
            size_b.0,
            size_b.1
        );
    }
    let (w, h) = size_a;
    let mut out = serde_json::Map::new();
    let first = |t: Tensor<B, 1>| to_vec(t)[0] as f64;
    out.insert("l1".into(), first(l1(ta.clone(), tb.clone())).into());
    if let Some(m) = mask {
        let (tm, size_m, _) = load(m, true)?;
        if size_m != size_a {
            bail!(
                "mask {} is {}x{} but the images are {w}x{h}",
                m.display(),
                size_m.0,
                size_m.1
            );
        }
        let binary = tm.greater_equal_elem(0.5).float();
        let v = first(hole_l1(ta.clone(), tb.clone(), binary));
        out.insert("hole_l1".into(), finite_or_null(v));
    }
    out.insert(
        "psnr".into(),
        finite_or_null(first(psnr(ta.clone(), tb.clone()))),
    );
    if w >= 11 && h >= 11 {
        out.insert("ssim".into(), first(ssim(ta.clone(), tb.clone())).into());
    } else {
        bail!(
            "{}: SSIM needs images of at least 11x11, got {w}x{h}",
            a.display()
        );
    }
    if learned.identity {
        let store = WeightStore::from_env().context("opening the weights cache")?;
        let path = store
            .path(unmask_weights::Asset::FaceRecognition)
            .context("fetching face-api's recognition net (or pass --no-identity)")?;
        let net = FaceRecognitionNet::<B>::load(&path, &Default::default())?;
        let both = net.descriptors_of_images(&[img_a.to_rgb8(), img_b.to_rgb8()])?;
        let sim = cosine_similarity(&both[0], &both[1]);
        out.insert("id_sim".into(), sim.into());
    }
    if learned.lpips {
        let min = LpipsNet::Alex.min_size() as u32;
        if w < min || h < min {
            bail!(
                "{}: LPIPS needs images of at least {min}x{min}, got {w}x{h} (or pass --no-lpips)",
                a.display()
            );
        }
        let store = WeightStore::from_env().context("opening the weights cache")?;
        let lpips = Lpips::<B>::from_store(LpipsNet::Alex, &store, &Default::default())
            .context("loading the LPIPS AlexNet weights (or pass --no-lpips)")?;
        out.insert("lpips_alex".into(), first(lpips.distance(ta, tb)).into());
    }
    if json {
        println!("{}", serde_json::Value::Object(out));
    } else {
        let order = ["l1", "hole_l1", "psnr", "ssim", "lpips_alex", "id_sim"];
        for (k, v) in order.iter().filter_map(|k| out.get(*k).map(|v| (k, v))) {
            match v.as_f64() {
                Some(x) => println!("{k:<11} {x:.6}"),
                None if *k == "psnr" => println!("{k:<11} inf (identical)"),
                None => println!("{k:<11} n/a (empty mask)"),
            }
        }
    }
    Ok(())
}

fn finite_or_null(v: f64) -> serde_json::Value {
    if v.is_finite() {
        v.into()
    } else {
        serde_json::Value::Null
    }
}
