//! Procedural synthetic faces: parameters are sampled ([`params`]), turned into 68 landmarks
//! and outlines in face space and projected with a head pose ([`shape`]), then painted
//! ([`render`]). The landmarks are exact because every feature is drawn through them.

pub mod params;
pub mod render;
pub mod shape;

pub use params::{FaceParams, FacialHair, Glasses, HairStyle};
pub use render::render_face;
pub use shape::FaceShape;

/// One generated face: the image and its landmarks in pixel coordinates.
pub struct SyntheticFace {
    pub image: image::RgbImage,
    pub landmarks: unmask_core::Landmarks,
    pub params: FaceParams,
}

/// Generates face `index` of the stream seeded with `seed` at `size` x `size` pixels.
pub fn generate_face(seed: u64, index: u64, size: u32) -> SyntheticFace {
    let mut rng = unmask_core::rng::sample_rng(seed, "synthetic-face", index);
    let params = FaceParams::sample(&mut rng);
    let shape = FaceShape::new(&params, size);
    let image = render_face(&params, &shape, size, seed ^ index.wrapping_mul(0x9E37));
    SyntheticFace {
        image,
        landmarks: shape.landmarks,
        params,
    }
}
