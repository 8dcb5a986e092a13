//! Writes, for each face of a photo, its aligned crop with the landmarks, the segmenter's
//! probability map, the mouth-and-chin region of the mask check and the lower-face region of
//! the cut side by side (OUT_DIR/NAME_K.png), and prints the mask check's verdict: what to
//! look at when a face stays masked.
//! `cargo run -p unmask-photo --example face_debug -- PHOTO SEG GAN DIR`
use anyhow::Result;
use burn::backend::Flex;
use image::{GrayImage, Rgb, RgbImage};
use unmask_detect::{lower_face, mouth_and_chin, Detector};
use unmask_photo::{UnmaskSettings, Unmasker};

fn grey(m: &GrayImage) -> RgbImage {
    RgbImage::from_fn(m.width(), m.height(), |x, y| {
        let v = m.get_pixel(x, y).0[0];
        Rgb([v, v, v])
    })
}

fn main() -> Result<()> {
    let a: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        a.len() == 5,
        "usage: face_debug PHOTO TRAIN_SEG_DIR TRAIN_INPAINT_DIR OUT_DIR"
    );
    let store = unmask_weights::WeightStore::from_env()?;
    let device = Default::default();
    let u = Unmasker::<Flex>::load(
        &store,
        Detector::Ssd,
        a[2].as_ref(),
        a[3].as_ref(),
        UnmaskSettings::default(),
        &device,
    )?;
    let photo = unmask_detect::read_photo(a[1].as_ref())?;
    let out = u.unmask(&photo)?;
    let stem = std::path::Path::new(&a[1])
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .to_string();
    std::fs::create_dir_all(&a[4])?;
    for (k, f) in out.faces.iter().enumerate() {
        let crop = f.alignment.crop(&photo);
        let prob = u
            .segmenter
            .probabilities_at_size(std::slice::from_ref(&crop))
            .remove(0);
        let mc = mouth_and_chin(&f.alignment, &f.landmarks);
        let lf = lower_face(&f.alignment, &f.landmarks, 20);
        let mut tile = RgbImage::new(crop.width() * 4, crop.height());
        for (i, im) in [crop.clone(), grey(&prob), grey(&mc), grey(&lf)]
            .iter()
            .enumerate()
        {
            image::imageops::overlay(&mut tile, im, (i as u32 * crop.width()) as i64, 0);
        }
        for p in unmask_photo::unmasker::crop_points(&f.alignment, &f.landmarks) {
            let (x, y) = (p[0].round() as i64, p[1].round() as i64);
            if (0..256).contains(&x) && (0..256).contains(&y) {
                tile.put_pixel(x as u32, y as u32, Rgb([255, 0, 0]));
            }
        }
        println!(
            "{stem}_{k}: coverage {:.2} area {:.3} {}",
            f.mouth_chin_coverage, f.mask_area, f.reason
        );
        tile.save(format!("{}/{stem}_{k}.png", a[4]))?;
    }
    Ok(())
}
