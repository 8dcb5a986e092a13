//! The random parameters of one synthetic face. Ranges are chosen so that the lower face
//! (jaw, chin, nose, mouth, facial hair) varies as much as possible: that is the region the
//! inpainting model has to reconstruct, so a dataset of near-identical chins would be a toy.

use rand::Rng;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HairStyle {
    Bald,
    Buzz,
    Short,
    SidePart,
    Fringe,
    Long,
    Curly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FacialHair {
    None,
    Stubble,
    Moustache,
    Goatee,
    Beard,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Glasses {
    None,
    Round,
    Rectangular,
}

impl HairStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bald => "bald",
            Self::Buzz => "buzz",
            Self::Short => "short",
            Self::SidePart => "side_part",
            Self::Fringe => "fringe",
            Self::Long => "long",
            Self::Curly => "curly",
        }
    }
}

impl FacialHair {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Stubble => "stubble",
            Self::Moustache => "moustache",
            Self::Goatee => "goatee",
            Self::Beard => "beard",
        }
    }
}

impl Glasses {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Round => "round",
            Self::Rectangular => "rectangular",
        }
    }
}

/// Everything that makes one face different from another. Lengths are in face units (the
/// cheekbone half-width is about 0.85), angles in degrees, colours linear RGB in [0, 1].
#[derive(Clone, Debug, Serialize)]
pub struct FaceParams {
    // Head shape.
    pub face_width: f32,
    pub jaw_width: f32,
    pub jaw_squareness: f32,
    pub chin_y: f32,
    pub chin_width: f32,
    pub forehead_height: f32,
    // Eyes and brows.
    pub eye_y: f32,
    pub eye_spacing: f32,
    pub eye_width: f32,
    pub eye_openness: f32,
    pub eye_tilt: f32,
    pub brow_gap: f32,
    pub brow_arch: f32,
    pub brow_thickness: f32,
    // Nose.
    pub nose_y: f32,
    pub nose_width: f32,
    pub nose_bridge_width: f32,
    // Mouth.
    pub mouth_y: f32,
    pub mouth_width: f32,
    pub upper_lip: f32,
    pub lower_lip: f32,
    pub smile: f32,
    pub mouth_open: f32,
    // Appearance.
    pub skin_tone: f32,
    pub skin: [f32; 3],
    pub lip_color: [f32; 3],
    pub iris_color: [f32; 3],
    pub hair_style: HairStyle,
    pub hair_color: [f32; 3],
    pub facial_hair: FacialHair,
    pub glasses: Glasses,
    pub glasses_color: [f32; 3],
    pub clothes_color: [f32; 3],
    pub background: [[f32; 3]; 2],
    pub blush: f32,
    // Pose, camera and lighting.
    pub yaw: f32,
    pub roll: f32,
    pub scale: f32,
    pub offset: [f32; 2],
    pub light_angle: f32,
    pub light_strength: f32,
    pub blur_radius: u32,
    pub noise: f32,
}

fn lerp3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn jitter(rng: &mut impl Rng, c: [f32; 3], amount: f32) -> [f32; 3] {
    c.map(|v| (v + rng.random_range(-amount..=amount)).clamp(0.0, 1.0))
}

fn pick<T: Copy>(rng: &mut impl Rng, weighted: &[(T, f32)]) -> T {
    let total: f32 = weighted.iter().map(|w| w.1).sum();
    let mut r = rng.random_range(0.0..total);
    for &(v, w) in weighted {
        if r < w {
            return v;
        }
        r -= w;
    }
    weighted[weighted.len() - 1].0
}

/// Skin tones from very light to very dark along a measured-looking ramp, so the whole human
/// range is covered rather than a handful of presets.
fn skin_color(tone: f32, rng: &mut impl Rng) -> [f32; 3] {
    const RAMP: [[f32; 3]; 5] = [
        [0.96, 0.84, 0.76],
        [0.89, 0.70, 0.58],
        [0.74, 0.53, 0.39],
        [0.52, 0.34, 0.23],
        [0.30, 0.19, 0.13],
    ];
    let x = tone.clamp(0.0, 1.0) * (RAMP.len() - 1) as f32;
    let i = (x.floor() as usize).min(RAMP.len() - 2);
    let base = lerp3(RAMP[i], RAMP[i + 1], x - i as f32);
    // Undertone: a little towards red/olive.
    let under = rng.random_range(-0.03f32..0.03);
    [base[0] + under, base[1], (base[2] - under).max(0.0)]
}

fn hair_color(rng: &mut impl Rng) -> [f32; 3] {
    let base = pick(
        rng,
        &[
            ([0.06, 0.05, 0.05], 3.0),
            ([0.20, 0.12, 0.07], 3.0),
            ([0.40, 0.26, 0.14], 2.0),
            ([0.78, 0.63, 0.38], 1.2),
            ([0.55, 0.22, 0.09], 0.6),
            ([0.62, 0.62, 0.62], 0.7),
            ([0.90, 0.89, 0.86], 0.3),
            ([0.35, 0.15, 0.45], 0.2),
        ],
    );
    jitter(rng, base, 0.04)
}

impl FaceParams {
    pub fn sample(rng: &mut impl Rng) -> Self {
        let skin_tone = rng.random_range(0.0f32..1.0);
        let skin = skin_color(skin_tone, rng);
        let lip_base = lerp3(skin, [0.62, 0.22, 0.25], rng.random_range(0.25..0.6));
        let lip_color = jitter(rng, lip_base.map(|v| v * 0.9), 0.03);
        let hair_style = pick(
            rng,
            &[
                (HairStyle::Bald, 0.5),
                (HairStyle::Buzz, 1.0),
                (HairStyle::Short, 2.0),
                (HairStyle::SidePart, 1.5),
                (HairStyle::Fringe, 1.2),
                (HairStyle::Long, 2.0),
                (HairStyle::Curly, 1.0),
            ],
        );
        let facial_hair = pick(
            rng,
            &[
                (FacialHair::None, 5.0),
                (FacialHair::Stubble, 1.2),
                (FacialHair::Moustache, 0.8),
                (FacialHair::Goatee, 0.8),
                (FacialHair::Beard, 1.2),
            ],
        );
        let glasses = pick(
            rng,
            &[
                (Glasses::None, 6.0),
                (Glasses::Round, 1.0),
                (Glasses::Rectangular, 1.0),
            ],
        );
        let bg_a = [rng.random(), rng.random(), rng.random()].map(|v: f32| 0.15 + 0.75 * v);
        let bg_b = jitter(rng, bg_a.map(|v| v * 0.7), 0.15);
        let frame = pick(
            rng,
            &[
                ([0.05, 0.05, 0.05], 3.0),
                ([0.45, 0.3, 0.15], 1.0),
                ([0.7, 0.7, 0.72], 1.0),
            ],
        );
        let glasses_color = jitter(rng, frame, 0.05);
        let mouth_open = if rng.random_bool(0.3) {
            rng.random_range(0.02..0.12)
        } else {
            0.0
        };
        Self {
            face_width: rng.random_range(0.78..0.95),
            jaw_width: rng.random_range(0.70..0.98),
            jaw_squareness: rng.random_range(0.55..1.25),
            chin_y: rng.random_range(0.92..1.12),
            chin_width: rng.random_range(0.0..0.35),
            forehead_height: rng.random_range(0.95..1.15),
            eye_y: rng.random_range(-0.30..-0.18),
            eye_spacing: rng.random_range(0.31..0.40),
            eye_width: rng.random_range(0.12..0.17),
            eye_openness: rng.random_range(0.45..1.0),
            eye_tilt: rng.random_range(-0.02..0.03),
            brow_gap: rng.random_range(0.13..0.22),
            brow_arch: rng.random_range(0.0..0.07),
            brow_thickness: rng.random_range(0.025..0.065),
            nose_y: rng.random_range(0.13..0.28),
            nose_width: rng.random_range(0.11..0.22),
            nose_bridge_width: rng.random_range(0.04..0.08),
            mouth_y: rng.random_range(0.47..0.62),
            mouth_width: rng.random_range(0.25..0.40),
            upper_lip: rng.random_range(0.035..0.075),
            lower_lip: rng.random_range(0.045..0.10),
            smile: rng.random_range(-0.3..1.0),
            mouth_open,
            skin_tone,
            skin,
            lip_color,
            iris_color: pick(
                rng,
                &[
                    ([0.25, 0.14, 0.07], 4.0),
                    ([0.12, 0.08, 0.05], 3.0),
                    ([0.25, 0.40, 0.55], 1.5),
                    ([0.30, 0.42, 0.25], 1.0),
                    ([0.45, 0.50, 0.55], 0.6),
                ],
            ),
            hair_style,
            hair_color: hair_color(rng),
            facial_hair,
            glasses,
            glasses_color,
            clothes_color: [rng.random(), rng.random(), rng.random()].map(|v: f32| 0.1 + 0.8 * v),
            background: [bg_a, bg_b],
            blush: rng.random_range(0.0..0.25),
            yaw: rng.random_range(-15.0..15.0),
            roll: rng.random_range(-15.0..15.0),
            scale: rng.random_range(0.31..0.36),
            offset: [rng.random_range(-0.03..0.03), rng.random_range(-0.03..0.03)],
            light_angle: rng.random_range(0.0..std::f32::consts::TAU),
            light_strength: rng.random_range(0.1..0.6),
            blur_radius: if rng.random_bool(0.25) { 1 } else { 0 },
            noise: rng.random_range(0.0..0.025),
        }
    }
}
