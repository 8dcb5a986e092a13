//! MaskTheFace's job on real photos: synthetic masks drawn on the faces found, from their 68
//! landmarks at the photo's own resolution, styled like the masks stage draws them, with the
//! exact binary mask of what was drawn.

use image::{GrayImage, RgbImage};
use unmask_detect::Landmarks68;
use unmask_masks::{render_mask, sample_style, MaskConfig, MaskType, N_LANDMARKS};

/// What was drawn on one face.
#[derive(Clone, Debug)]
pub struct DrawnFace {
    /// The mask drawn, or why none could be (`Err`); `None` when the face was not chosen.
    pub drawn: Option<Result<Drawn, String>>,
}

#[derive(Clone, Debug)]
pub struct Drawn {
    pub mask_type: MaskType,
    /// The face's own binary mask at the photo's size (255 inside).
    pub mask: GrayImage,
    pub mask_pixels: usize,
}

/// A photo with masks drawn on it.
pub struct Worn {
    pub image: RgbImage,
    /// Every face's mask, at the photo's size (255 inside).
    pub truth: GrayImage,
    pub faces: Vec<DrawnFace>,
}

impl Worn {
    pub fn faces_masked(&self) -> usize {
        self.faces
            .iter()
            .filter(|f| matches!(f.drawn, Some(Ok(_))))
            .count()
    }
}

/// Draws a mask on each face of `photo` whose index is in `chosen` (all when empty). Face
/// `k`'s style comes from the stream `(seed, "wear-mask:NAME", k)`, so a photo's masks depend on
/// its name and the seed alone.
pub fn wear_masks(
    photo: &RgbImage,
    landmarks: &[Landmarks68],
    styles: &MaskConfig,
    seed: u64,
    name: &str,
    chosen: &[usize],
) -> Worn {
    let mut image = photo.clone();
    let mut truth = GrayImage::new(photo.width(), photo.height());
    let mut faces = Vec::new();
    for (k, lm) in landmarks.iter().enumerate() {
        if !chosen.is_empty() && !chosen.contains(&k) {
            faces.push(DrawnFace { drawn: None });
            continue;
        }
        let mut rng = unmask_core::rng::sample_rng(seed, &format!("wear-mask:{name}"), k as u64);
        let style = sample_style(styles, &mut rng);
        let mut points = [[0.0f32; 2]; N_LANDMARKS];
        for (p, q) in points.iter_mut().zip(lm) {
            *p = [q[0] as f32, q[1] as f32];
        }
        let drawn = match render_mask(&image, &points, &style) {
            Ok(d) => {
                image = d.image;
                for (t, m) in truth.pixels_mut().zip(d.mask.pixels()) {
                    t.0[0] = t.0[0].max(m.0[0]);
                }
                Ok(Drawn {
                    mask_type: style.mask_type,
                    mask_pixels: d.mask.pixels().filter(|p| p.0[0] > 0).count(),
                    mask: d.mask,
                })
            }
            Err(e) => Err(e.to_string()),
        };
        faces.push(DrawnFace { drawn: Some(drawn) });
    }
    Worn {
        image,
        truth,
        faces,
    }
}
