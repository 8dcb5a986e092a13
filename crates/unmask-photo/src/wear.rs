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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two faces side by side on a 200x100 photo.
    fn two_faces() -> (RgbImage, Vec<Landmarks68>) {
        let photo = RgbImage::from_fn(200, 100, |x, y| image::Rgb([200, (x % 256) as u8, y as u8]));
        let face = |cx: f32| -> Landmarks68 {
            unmask_masks::mean_face([cx, 50.0], 60.0).map(|p| [p[0] as f64, p[1] as f64])
        };
        (photo, vec![face(50.0), face(150.0)])
    }

    #[test]
    fn masks_depend_on_seed_and_name_and_only_chosen_faces_wear_one() {
        let (photo, faces) = two_faces();
        let styles = MaskConfig::default();
        let a = wear_masks(&photo, &faces, &styles, 3, "p.jpg", &[]);
        let b = wear_masks(&photo, &faces, &styles, 3, "p.jpg", &[]);
        assert_eq!(a.image, b.image, "same seed and name, same masks");
        assert_eq!(a.faces_masked(), 2);
        let other = wear_masks(&photo, &faces, &styles, 4, "p.jpg", &[]);
        assert_ne!(a.image, other.image, "another seed draws other masks");
        // The truth is the union of the faces' own masks.
        let drawn: Vec<&Drawn> = a
            .faces
            .iter()
            .map(|f| f.drawn.as_ref().unwrap().as_ref().unwrap())
            .collect();
        for (i, t) in a.truth.pixels().enumerate() {
            let (x, y) = (i as u32 % 200, i as u32 / 200);
            let any = drawn.iter().any(|d| d.mask.get_pixel(x, y).0[0] > 0);
            assert_eq!(t.0[0] > 0, any, "({x}, {y})");
        }
        // Only face 1 chosen: face 0's half of the photo is untouched.
        let one = wear_masks(&photo, &faces, &styles, 3, "p.jpg", &[1]);
        assert!(one.faces[0].drawn.is_none() && one.faces_masked() == 1);
        for y in 0..100 {
            for x in 0..100 {
                assert_eq!(one.image.get_pixel(x, y), photo.get_pixel(x, y));
            }
        }
    }
}
