//! What the segmenter sees of each training sample: mirrored or not, the masked face or the
//! bare one (a negative, whose mask is empty), and random changes of colour, sharpness,
//! noise and framing. Synthetic faces are all alike in colour, rendering and framing, and
//! every one of them wears a mask; without these a segmenter learns "the lower face is the
//! mask" and marks bare real faces. Every choice is a function of `(seed, step, slot)`, so
//! resumed and uninterrupted runs agree whatever the thread count.

use image::{GrayImage, Rgb, RgbImage};
use rand::Rng;
use serde::{Deserialize, Serialize};
use unmask_core::rng::{sample_rng, SampleRng};

/// How strongly training samples are varied (the `train-seg` stage's `augment` parameter).
/// All zero (the default) is the report's training: masked faces only, flips alone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Share of samples shown as the bare face with an empty mask. Needs `bce_weight > 0`:
    /// the Dice loss of an empty mask has no gradient.
    pub negatives: f32,
    /// Colour, contrast, blur and noise changes: 0 none, 1 full (brightness ±0.15, contrast
    /// and saturation ±40%, channel gains ±12%, blur up to sigma 1.5 px, noise up to 0.04).
    pub photometric: f32,
    /// Framing changes, the same for image and mask: 0 none, 1 full (scale ±12%, rotation
    /// ±10°, shift ±6% of the side).
    pub geometric: f32,
    /// Share of samples that get 1 to 3 distractors: rectangles of stripes or flat colour
    /// painted outside the mask (the label is unchanged). Real photos have blinds, sky, walls
    /// and clothes beside a face, which the smooth synthetic backgrounds never show.
    pub distractors: f32,
}

impl AugmentConfig {
    pub fn validate(&self, bce_weight: f32) -> anyhow::Result<()> {
        for (name, v) in [
            ("augment.negatives", self.negatives),
            ("augment.photometric", self.photometric),
            ("augment.geometric", self.geometric),
            ("augment.distractors", self.distractors),
        ] {
            anyhow::ensure!(
                (0.0..=1.0).contains(&v),
                "{name} must be in [0, 1], got {v}"
            );
        }
        anyhow::ensure!(
            self.negatives == 0.0 || bce_weight > 0.0,
            "augment.negatives = {} needs bce_weight > 0: the Dice loss of an empty mask has no gradient, so negatives alone teach nothing",
            self.negatives
        );
        Ok(())
    }
}

/// The drawn view of one sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    pub flip: bool,
    /// Show the bare face (the pair's target) with an empty mask.
    pub negative: bool,
    pub photometric: Option<Photometric>,
    pub geometric: Option<Geometric>,
    /// Seeds the per-pixel noise.
    pub noise_seed: u64,
    pub distractors: Vec<Distractor>,
}

/// A rectangle (fractions of the side) painted with stripes of two colours, or one colour
/// when `period` is 0, outside the mask (and the face, with `beside_face`).
#[derive(Clone, Debug, PartialEq)]
pub struct Distractor {
    pub centre: [f32; 2],
    pub half_size: [f32; 2],
    /// Stripe period as a fraction of the side; 0 paints flat.
    pub period: f32,
    pub degrees: f32,
    pub colours: [[u8; 3]; 2],
    /// Kept off the face ([`on_face`]); half of them are. Flat greys painted on the face
    /// teach that a dark cloth mask is no mask, and with every distractor beside it a bare
    /// face under coloured light was taken for one.
    pub beside_face: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Photometric {
    pub brightness: f32,
    pub contrast: f32,
    pub saturation: f32,
    pub gains: [f32; 3],
    pub blur_sigma: f32,
    pub noise: f32,
}

/// Scale and rotation about the centre, then a shift (fractions of the side).
#[derive(Clone, Debug, PartialEq)]
pub struct Geometric {
    pub scale: f32,
    pub degrees: f32,
    pub shift: [f32; 2],
}

impl View {
    /// The view of sample `slot` at training step `step`.
    pub fn draw(cfg: &AugmentConfig, flips: bool, seed: u64, step: u64, slot: usize) -> Self {
        Self::draw_from("seg-view", cfg, flips, seed, step, slot)
    }

    /// [`View::draw`] from the random stream `NAME:STEP` (each model draws its own views).
    pub fn draw_from(
        name: &str,
        cfg: &AugmentConfig,
        flips: bool,
        seed: u64,
        step: u64,
        slot: usize,
    ) -> Self {
        let mut rng = sample_rng(seed, &format!("{name}:{step}"), slot as u64);
        let flip = flips && rng.random::<f32>() < 0.5;
        let negative = rng.random::<f32>() < cfg.negatives;
        let sym = |rng: &mut SampleRng, range: f32| (rng.random::<f32>() * 2.0 - 1.0) * range;
        let photometric = (cfg.photometric > 0.0).then(|| {
            let s = cfg.photometric;
            Photometric {
                brightness: sym(&mut rng, 0.15 * s),
                contrast: 1.0 + sym(&mut rng, 0.4 * s),
                saturation: 1.0 + sym(&mut rng, 0.4 * s),
                gains: [
                    1.0 + sym(&mut rng, 0.12 * s),
                    1.0 + sym(&mut rng, 0.12 * s),
                    1.0 + sym(&mut rng, 0.12 * s),
                ],
                // Half the samples stay sharp.
                blur_sigma: sym(&mut rng, 1.5 * s).max(0.0),
                noise: rng.random::<f32>() * 0.04 * s,
            }
        });
        let geometric = (cfg.geometric > 0.0).then(|| {
            let s = cfg.geometric;
            Geometric {
                scale: 1.0 + sym(&mut rng, 0.12 * s),
                degrees: sym(&mut rng, 10.0 * s),
                shift: [sym(&mut rng, 0.06 * s), sym(&mut rng, 0.06 * s)],
            }
        });
        let noise_seed = rng.random();
        // Drawn last, so that views without distractors are the ones drawn before they existed.
        let distractors = if cfg.distractors > 0.0 && rng.random::<f32>() < cfg.distractors {
            (0..rng.random_range(1..=3))
                .map(|_| Distractor::draw(&mut rng))
                .collect()
        } else {
            Vec::new()
        };
        Self {
            flip,
            negative,
            photometric,
            geometric,
            noise_seed,
            distractors,
        }
    }

    /// Where the framing change moves point `p` of a `w` x `h` image (not the flip, which
    /// happens when batching): the forward map of what [`Self::apply`] warps by.
    pub fn map_point(&self, w: u32, h: u32, p: [f32; 2]) -> [f32; 2] {
        match &self.geometric {
            Some(g) => g.target(w, h, p),
            None => p,
        }
    }

    /// Applies the colour and framing changes (not the flip, which happens when batching).
    pub fn apply(&self, image: RgbImage, mask: GrayImage) -> (RgbImage, GrayImage) {
        let (mut image, mut mask) = (image, mask);
        // Before the warp, so that the face ellipse is where the aligned crop has the face.
        for d in &self.distractors {
            d.paint(&mut image, &mask);
        }
        if let Some(g) = &self.geometric {
            image = g.warp_rgb(&image);
            mask = g.warp_mask(&mask);
        }
        if let Some(p) = &self.photometric {
            let (blurred, mean) = p.blurred(&image);
            image = p.recolour(blurred, mean, self.noise_seed);
        }
        (image, mask)
    }

    /// The colour and framing changes applied alike to an inpainting pair: the masked face,
    /// its target and the hole. Contrast pivots on the target's mean for both images, so
    /// outside the hole the two stay equal (up to the blur's reach across the hole's edge).
    pub fn apply_pair(
        &self,
        masked: RgbImage,
        target: RgbImage,
        hole: GrayImage,
    ) -> (RgbImage, RgbImage, GrayImage) {
        let (mut masked, mut target, mut hole) = (masked, target, hole);
        for d in &self.distractors {
            d.paint(&mut masked, &hole);
            d.paint(&mut target, &hole);
        }
        if let Some(g) = &self.geometric {
            masked = g.warp_rgb(&masked);
            target = g.warp_rgb(&target);
            hole = g.warp_mask(&hole);
        }
        if let Some(p) = &self.photometric {
            let (blurred_target, mean) = p.blurred(&target);
            masked = p.recolour(p.blurred(&masked).0, mean, self.noise_seed);
            target = p.recolour(blurred_target, mean, self.noise_seed);
        }
        (masked, target, hole)
    }
}

impl Photometric {
    /// `image` blurred as this change blurs, and its mean grey level.
    fn blurred(&self, image: &RgbImage) -> (RgbImage, f32) {
        let image = if self.blur_sigma > 0.05 {
            imageproc::filter::gaussian_blur_f32(image, self.blur_sigma)
        } else {
            image.clone()
        };
        let n = (image.width() * image.height()) as f32;
        let mean = image.pixels().fold(0.0, |acc, p| {
            acc + (p.0[0] as f32 + p.0[1] as f32 + p.0[2] as f32) / (3.0 * 255.0)
        }) / n.max(1.0);
        (image, mean)
    }

    /// The colour changes of an image already blurred, about grey level `mean`, and noise
    /// from `noise_seed`.
    fn recolour(&self, image: RgbImage, mean: f32, noise_seed: u64) -> RgbImage {
        let mut rng = sample_rng(noise_seed, "seg-noise", 0);
        let mut out = image;
        for p in out.pixels_mut() {
            let c = p.0.map(|v| v as f32 / 255.0);
            let grey = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
            let mut v = [0u8; 3];
            for k in 0..3 {
                let saturated = grey + (c[k] - grey) * self.saturation;
                let contrasted = mean + (saturated * self.gains[k] - mean) * self.contrast;
                let noise = if self.noise > 0.0 {
                    (rng.random::<f32>() * 2.0 - 1.0) * self.noise * 1.732
                } else {
                    0.0
                };
                v[k] =
                    ((contrasted + self.brightness + noise).clamp(0.0, 1.0) * 255.0).round() as u8;
            }
            *p = Rgb(v);
        }
        out
    }
}

/// Whether `(u, v)` (fractions of the side) lies on the face of an FFHQ-aligned crop: an
/// ellipse around the mean face's jaw (x 0.21 to 0.80, y down to 0.95) and its forehead.
fn on_face(u: f32, v: f32) -> bool {
    const CENTRE: [f32; 2] = [0.5, 0.6];
    const RADII: [f32; 2] = [0.34, 0.42];
    ((u - CENTRE[0]) / RADII[0]).powi(2) + ((v - CENTRE[1]) / RADII[1]).powi(2) <= 1.0
}

impl Distractor {
    fn draw(rng: &mut SampleRng) -> Self {
        // Mostly light or dark greys with a tint, as blinds, walls, sky and clothes are.
        let colour = |rng: &mut SampleRng| {
            let level = if rng.random::<f32>() < 0.5 {
                0.75 + 0.25 * rng.random::<f32>()
            } else {
                rng.random::<f32>()
            };
            [0; 3].map(|_| {
                ((level * (0.85 + 0.3 * rng.random::<f32>())).clamp(0.0, 1.0) * 255.0) as u8
            })
        };
        let colours = [colour(rng), colour(rng)];
        Self {
            centre: [rng.random(), rng.random()],
            half_size: [
                0.05 + 0.25 * rng.random::<f32>(),
                0.05 + 0.25 * rng.random::<f32>(),
            ],
            period: if rng.random::<f32>() < 0.7 {
                0.02 + 0.08 * rng.random::<f32>()
            } else {
                0.0
            },
            degrees: rng.random::<f32>() * 180.0,
            colours,
            beside_face: rng.random::<f32>() < 0.5,
        }
    }

    /// Paints the rectangle into `image` where `mask` is 0.
    fn paint(&self, image: &mut RgbImage, mask: &GrayImage) {
        let (w, h) = image.dimensions();
        let side = w.max(h) as f32;
        let (s, c) = self.degrees.to_radians().sin_cos();
        for y in 0..h {
            for x in 0..w {
                let (u, v) = ((x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
                let inside = (u - self.centre[0]).abs() <= self.half_size[0]
                    && (v - self.centre[1]).abs() <= self.half_size[1];
                if !inside || (self.beside_face && on_face(u, v)) || mask.get_pixel(x, y).0[0] != 0
                {
                    continue;
                }
                let stripe = if self.period > 0.0 {
                    let along = (c * x as f32 + s * y as f32) / side;
                    (along / self.period).rem_euclid(1.0) >= 0.5
                } else {
                    false
                };
                image.put_pixel(x, y, Rgb(self.colours[stripe as usize]));
            }
        }
    }
}

impl Geometric {
    /// Source position of output pixel centre `(x, y)` (inverse map: output -> input).
    fn source(&self, w: u32, h: u32, x: f32, y: f32) -> [f32; 2] {
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let (dx, dy) = (
            x - cx - self.shift[0] * w as f32,
            y - cy - self.shift[1] * h as f32,
        );
        let (s, c) = (-self.degrees.to_radians()).sin_cos();
        let k = 1.0 / self.scale;
        [cx + k * (c * dx - s * dy), cy + k * (s * dx + c * dy)]
    }

    /// The inverse of [`Self::source`]: where input point `p` lands in the output.
    fn target(&self, w: u32, h: u32, p: [f32; 2]) -> [f32; 2] {
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let (dx, dy) = (p[0] - cx, p[1] - cy);
        let (s, c) = self.degrees.to_radians().sin_cos();
        [
            cx + self.shift[0] * w as f32 + self.scale * (c * dx - s * dy),
            cy + self.shift[1] * h as f32 + self.scale * (s * dx + c * dy),
        ]
    }

    fn warp_rgb(&self, img: &RgbImage) -> RgbImage {
        let (w, h) = img.dimensions();
        RgbImage::from_fn(w, h, |x, y| {
            let [sx, sy] = self.source(w, h, x as f32 + 0.5, y as f32 + 0.5);
            Rgb(bilinear(img, sx - 0.5, sy - 0.5))
        })
    }

    fn warp_mask(&self, mask: &GrayImage) -> GrayImage {
        let (w, h) = mask.dimensions();
        GrayImage::from_fn(w, h, |x, y| {
            let [sx, sy] = self.source(w, h, x as f32 + 0.5, y as f32 + 0.5);
            let (i, j) = (sx.floor(), sy.floor());
            let inside = i >= 0.0 && j >= 0.0 && i < w as f32 && j < h as f32;
            image::Luma([if inside {
                mask.get_pixel(i as u32, j as u32).0[0]
            } else {
                0
            }])
        })
    }
}

/// Bilinear sample with the edge pixels repeated outside, as the aligned crops of real
/// photos are padded.
fn bilinear(img: &RgbImage, x: f32, y: f32) -> [u8; 3] {
    let (w, h) = img.dimensions();
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mut out = [0u8; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let at = |i, j| img.get_pixel(i, j).0[k] as f32;
        let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
        let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
        *o = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face() -> (RgbImage, GrayImage) {
        let img = RgbImage::from_fn(32, 32, |x, y| Rgb([(x * 8) as u8, (y * 8) as u8, 90]));
        let mask = GrayImage::from_fn(32, 32, |x, y| {
            image::Luma([if (10..22).contains(&x) && y >= 16 {
                255
            } else {
                0
            }])
        });
        (img, mask)
    }

    #[test]
    fn no_augmentation_is_the_identity() {
        let view = View::draw(&AugmentConfig::default(), false, 7, 3, 1);
        assert!(!view.negative && view.photometric.is_none() && view.geometric.is_none());
        let (img, mask) = face();
        assert_eq!(view.apply(img.clone(), mask.clone()), (img, mask));
    }

    #[test]
    fn views_depend_on_seed_step_and_slot_only() {
        let cfg = AugmentConfig {
            negatives: 0.3,
            photometric: 1.0,
            geometric: 1.0,
            ..AugmentConfig::default()
        };
        assert_eq!(
            View::draw(&cfg, true, 5, 9, 2),
            View::draw(&cfg, true, 5, 9, 2)
        );
        assert_ne!(
            View::draw(&cfg, true, 5, 9, 2),
            View::draw(&cfg, true, 5, 9, 3)
        );
        let negatives = (0..2000)
            .filter(|&i| View::draw(&cfg, true, 5, i, 0).negative)
            .count();
        assert!((500..700).contains(&negatives), "{negatives} of 2000");
        let (img, mask) = face();
        let view = View::draw(&cfg, true, 5, 9, 2);
        assert_eq!(view.apply(img.clone(), mask.clone()), view.apply(img, mask));
    }

    #[test]
    fn distractors_paint_outside_the_mask_alone() {
        let cfg = AugmentConfig {
            distractors: 1.0,
            ..AugmentConfig::default()
        };
        let (img, mask) = face();
        let mut changed = 0;
        for step in 0..20 {
            let view = View::draw(&cfg, false, 5, step, 0);
            assert!((1..=3).contains(&view.distractors.len()));
            let (out, out_mask) = view.apply(img.clone(), mask.clone());
            assert_eq!(out_mask, mask);
            for ((a, b), m) in out.pixels().zip(img.pixels()).zip(mask.pixels()) {
                if m.0[0] != 0 {
                    assert_eq!(a, b, "a mask pixel was painted");
                } else {
                    changed += (a != b) as usize;
                }
            }
        }
        assert!(changed > 0);
        let beside = view_with_beside_face(&cfg);
        let (out, _) = beside.apply(img.clone(), GrayImage::new(32, 32));
        for (x, y, p) in out.enumerate_pixels() {
            if on_face((x as f32 + 0.5) / 32.0, (y as f32 + 0.5) / 32.0) {
                assert_eq!(
                    p,
                    img.get_pixel(x, y),
                    "a face pixel was painted at {x},{y}"
                );
            }
        }
        assert_ne!(out, img, "the distractor beside the face painted nothing");
        // Without distractors the views are the ones drawn before the option existed.
        let plain = View::draw(&AugmentConfig::default(), false, 5, 3, 0);
        assert!(plain.distractors.is_empty());
    }

    /// A view of distractors alone whose first covers the whole crop and keeps off the face.
    fn view_with_beside_face(cfg: &AugmentConfig) -> View {
        let mut view = View::draw(cfg, false, 5, 0, 0);
        view.photometric = None;
        view.geometric = None;
        view.distractors = vec![Distractor {
            centre: [0.5, 0.5],
            half_size: [0.5, 0.5],
            beside_face: true,
            ..view.distractors[0].clone()
        }];
        view
    }

    /// An inpainting pair changes alike: away from the hole the masked face and its target
    /// stay equal, and the colour change is the one a lone image would get.
    #[test]
    fn a_pair_changes_alike_outside_the_hole() {
        let cfg = AugmentConfig {
            negatives: 0.0,
            photometric: 1.0,
            geometric: 1.0,
            ..AugmentConfig::default()
        };
        let (target, hole) = face();
        let mut masked = target.clone();
        for (p, m) in masked.pixels_mut().zip(hole.pixels()) {
            if m.0[0] > 0 {
                *p = Rgb([250, 20, 200]);
            }
        }
        let view = View::draw_from("inpaint-view", &cfg, false, 3, 1, 0);
        assert!(view.photometric.is_some() && view.geometric.is_some());
        let (m, t, h) = view.apply_pair(masked, target.clone(), hole.clone());
        assert_eq!(
            view.apply(target, hole).1,
            h,
            "the hole moves as a lone mask does"
        );
        let near_hole = grown(&h, 4);
        let mut compared = 0;
        for ((a, b), n) in m.pixels().zip(t.pixels()).zip(near_hole.pixels()) {
            if n.0[0] == 0 {
                assert_eq!(a, b);
                compared += 1;
            }
        }
        assert!(compared > 200, "{compared} pixels away from the hole");
    }

    fn grown(mask: &GrayImage, pixels: u8) -> GrayImage {
        imageproc::morphology::dilate(mask, imageproc::distance_transform::Norm::LInf, pixels)
    }

    #[test]
    fn geometry_moves_image_and_mask_together() {
        let g = Geometric {
            scale: 1.0,
            degrees: 0.0,
            shift: [0.125, 0.0],
        };
        let (img, mask) = face();
        let (moved, moved_mask) = (g.warp_rgb(&img), g.warp_mask(&mask));
        // A shift of 4 px to the right.
        assert_eq!(moved.get_pixel(20, 5), img.get_pixel(16, 5));
        assert_eq!(moved_mask.get_pixel(25, 20).0[0], 255);
        assert_eq!(moved_mask.get_pixel(13, 20).0[0], 0);
        assert_eq!(
            moved_mask.pixels().filter(|p| p.0[0] > 0).count(),
            mask.pixels().filter(|p| p.0[0] > 0).count()
        );
    }

    #[test]
    fn a_point_moves_where_the_warp_takes_its_pixel() {
        let g = Geometric {
            scale: 1.1,
            degrees: 8.0,
            shift: [0.05, -0.03],
        };
        let view = View {
            geometric: Some(g.clone()),
            ..View::default()
        };
        for p in [[3.0, 5.0], [16.0, 16.0], [30.5, 2.25]] {
            let [x, y] = view.map_point(32, 48, p);
            let back = g.source(32, 48, x, y);
            assert!((back[0] - p[0]).abs() < 1e-4 && (back[1] - p[1]).abs() < 1e-4);
            assert_ne!([x, y], p);
        }
        assert_eq!(View::default().map_point(32, 48, [3.0, 5.0]), [3.0, 5.0]);
    }

    #[test]
    fn negatives_need_cross_entropy() {
        let cfg = AugmentConfig {
            negatives: 0.2,
            ..Default::default()
        };
        let err = cfg.validate(0.0).unwrap_err().to_string();
        assert!(err.contains("bce_weight"), "{err}");
        cfg.validate(1.0).unwrap();
        let bad = AugmentConfig {
            photometric: 1.5,
            ..Default::default()
        };
        assert!(bad
            .validate(1.0)
            .unwrap_err()
            .to_string()
            .contains("augment.photometric"));
    }
}
