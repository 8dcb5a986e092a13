//! How a mask looks on a given face: colour and texture blends evaluated in template
//! coordinates, and brightness/saturation matched to the face's skin.

use std::str::FromStr;

use image::RgbImage;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::MaskError;
use crate::{Point, N_LANDMARKS};

/// An sRGB colour, written `#rrggbb` in configuration and serialised styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgb(pub [u8; 3]);

impl Rgb {
    /// Parses `#rrggbb` (the `#` is optional).
    pub fn from_hex(s: &str) -> Result<Self, MaskError> {
        let bad = || MaskError::InvalidColor(s.to_string());
        let h = s.trim().strip_prefix('#').unwrap_or(s.trim());
        if h.len() != 6 || !h.is_ascii() {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).map_err(|_| bad());
        Ok(Rgb([byte(0)?, byte(2)?, byte(4)?]))
    }

    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }

    fn to_f32(self) -> [f32; 3] {
        self.0.map(|v| v as f32)
    }
}

impl FromStr for Rgb {
    type Err = MaskError;
    fn from_str(s: &str) -> Result<Self, MaskError> {
        Self::from_hex(s)
    }
}

impl Serialize for Rgb {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Rgb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Rgb::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// MaskTheFace's colour blend: `(1 - weight) * fabric + weight * color`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColorBlend {
    pub color: Rgb,
    pub weight: f32,
}

impl Default for ColorBlend {
    /// MaskTheFace's default, `#0473e2` at weight 0.5.
    fn default() -> Self {
        Self {
            color: Rgb([0x04, 0x73, 0xe2]),
            weight: 0.5,
        }
    }
}

/// Procedural textures (MaskTheFace blends texture images; these are drawn instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    Check,
    Stripes,
    Dots,
    Floral,
    Fabric,
}

impl Pattern {
    pub const ALL: [Pattern; 5] = [
        Self::Check,
        Self::Stripes,
        Self::Dots,
        Self::Floral,
        Self::Fabric,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Check => "check",
            Self::Stripes => "stripes",
            Self::Dots => "dots",
            Self::Floral => "floral",
            Self::Fabric => "fabric",
        }
    }
}

/// A texture and how strongly it is blended into the fabric.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatternStyle {
    pub pattern: Pattern,
    /// Blend weight in `[0, 1]`, like MaskTheFace's `pattern_weight`.
    pub weight: f32,
    /// Background and motif colours.
    pub colors: [Rgb; 2],
    /// Repeat length in template units (the template is 400 units wide).
    pub scale: f32,
    pub angle_degrees: f32,
}

impl PatternStyle {
    /// The texture's colour at `p` in template coordinates, channels `0..=255`.
    pub fn color_at(&self, p: Point) -> [f32; 3] {
        PatternSampler::new(self).color_at(p)
    }

    /// Rough mean colour, for brightness matching.
    pub(crate) fn mean_color(&self) -> [f32; 3] {
        let share = match self.pattern {
            Pattern::Dots => 0.2,
            Pattern::Floral => 0.3,
            Pattern::Stripes => 0.35,
            _ => 0.5,
        };
        lerp3(self.colors[0].to_f32(), self.colors[1].to_f32(), share)
    }
}

/// Rotations for the flowers, one picked per cell, so no trigonometry runs per pixel.
const FLOWER_TURNS: [(f32, f32); 8] = [
    (0.0, 1.0),
    (0.6428, 0.7660),
    (0.9848, 0.1736),
    (0.8660, -0.5),
    (0.3420, -0.9397),
    (-0.3420, -0.9397),
    (-0.8660, -0.5),
    (-0.9848, 0.1736),
];

/// A [`PatternStyle`] with its per-render constants worked out; evaluated once per pixel.
pub(crate) struct PatternSampler {
    pattern: Pattern,
    c0: [f32; 3],
    c1: [f32; 3],
    heart: [f32; 3],
    sin: f32,
    cos: f32,
    inv_scale: f32,
    /// Anti-aliasing width in cell units (about one template unit).
    edge: f32,
}

impl PatternSampler {
    pub(crate) fn new(style: &PatternStyle) -> Self {
        let angle = if style.angle_degrees.is_finite() {
            style.angle_degrees
        } else {
            0.0
        };
        let (sin, cos) = angle.to_radians().sin_cos();
        let scale = if style.scale.is_finite() {
            style.scale.clamp(2.0, 1e4)
        } else {
            24.0
        };
        let (c0, c1) = (style.colors[0].to_f32(), style.colors[1].to_f32());
        Self {
            pattern: style.pattern,
            c0,
            c1,
            heart: lerp3(c1, [255.0, 236.0, 150.0], 0.7),
            sin,
            cos,
            inv_scale: 1.0 / scale,
            edge: 1.0 / scale,
        }
    }

    #[inline]
    pub(crate) fn color_at(&self, p: Point) -> [f32; 3] {
        let u = (self.cos * p[0] + self.sin * p[1]) * self.inv_scale;
        let v = (-self.sin * p[0] + self.cos * p[1]) * self.inv_scale;
        let e = self.edge;
        match self.pattern {
            Pattern::Check => {
                let (pu, du) = parity_and_edge_distance(u);
                let (pv, dv) = parity_and_edge_distance(v);
                let on = if pu == pv { 1.0 } else { 0.0 };
                let k = 0.5 + (on - 0.5) * smoothstep(0.0, e, du.min(dv));
                lerp3(self.c0, self.c1, k)
            }
            Pattern::Stripes => {
                const WIDTH: f32 = 0.35;
                let fr = u - floor(u);
                let sd = if fr < WIDTH {
                    fr.min(WIDTH - fr)
                } else {
                    -(fr - WIDTH).min(1.0 - fr)
                };
                lerp3(self.c0, self.c1, smoothstep(-e, e, sd))
            }
            Pattern::Dots => {
                let (lx, ly) = staggered(u, v);
                let d = (lx * lx + ly * ly).sqrt();
                lerp3(self.c0, self.c1, 1.0 - smoothstep(0.24 - e, 0.24 + e, d))
            }
            Pattern::Floral => {
                let (lx, ly) = staggered(u, v);
                let (s, c) = FLOWER_TURNS[(hash2(floor(u) as i32, floor(v) as i32) & 7) as usize];
                let (x, y) = (c * lx - s * ly, s * lx + c * ly);
                let r = (x * x + y * y).sqrt();
                // Five round petals: |cos(5 th / 2)| = sqrt((1 + cos 5 th) / 2), with cos 5 th
                // from the Chebyshev polynomial T5 of cos th.
                let ct = if r > 1e-6 { x / r } else { 1.0 };
                let t5 = ct * (5.0 + ct * ct * (-20.0 + 16.0 * ct * ct));
                let lobe = ((1.0 + t5) * 0.5).max(0.0).sqrt().sqrt();
                let petal = 0.36 * (0.3 + 0.7 * lobe);
                let k = 1.0 - smoothstep(petal - e, petal + e, r);
                let heart = 1.0 - smoothstep(0.08 - e, 0.08 + e, r);
                lerp3(lerp3(self.c0, self.c1, k), self.heart, heart)
            }
            Pattern::Fabric => {
                let coarse = value_noise(u * 3.0, v * 3.0);
                let fine = value_noise(u * 11.0, v * 11.0);
                let (_, wu) = parity_and_edge_distance(u * 12.0);
                let (_, wv) = parity_and_edge_distance(v * 12.0);
                let weave = 4.0 * wu * wv;
                let k = (0.05 + 0.45 * coarse + 0.2 * fine + 0.3 * weave).clamp(0.0, 1.0);
                lerp3(self.c0, self.c1, k)
            }
        }
    }
}

/// `f32::floor` without the libm call the default x86-64 target makes for it; pattern
/// coordinates are far inside the `i32` range (saturating casts keep the rest finite).
#[inline]
fn floor(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// Parity of the unit cell containing `u` and the distance to its nearer edge.
#[inline]
fn parity_and_edge_distance(u: f32) -> (bool, f32) {
    let fl = floor(u);
    let fr = u - fl;
    ((fl as i64) & 1 == 1, fr.min(1.0 - fr))
}

/// Offset from the centre of the nearest cell of a grid whose odd rows are shifted by half.
fn staggered(u: f32, v: f32) -> (f32, f32) {
    let row = floor(v);
    let shift = if (row as i64).rem_euclid(2) == 1 {
        0.5
    } else {
        0.0
    };
    let x = u + shift;
    (x - floor(x) - 0.5, v - row - 0.5)
}

fn hash2(x: i32, y: i32) -> u32 {
    let mut h = (x as u32).wrapping_mul(0x8da6_b343) ^ (y as u32).wrapping_mul(0xd816_3841);
    h ^= h >> 13;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^ (h >> 16)
}

fn value_noise(x: f32, y: f32) -> f32 {
    let (x0, y0) = (floor(x), floor(y));
    let (tx, ty) = (x - x0, y - y0);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let (ix, iy) = (x0 as i32, y0 as i32);
    let h =
        |dx: i32, dy: i32| hash2(ix.wrapping_add(dx), iy.wrapping_add(dy)) as f32 / u32::MAX as f32;
    let top = h(0, 0) + sx * (h(1, 0) - h(0, 0));
    let bottom = h(0, 1) + sx * (h(1, 1) - h(0, 1));
    top + sy * (bottom - top)
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

pub(crate) fn lerp3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + t * (b[0] - a[0]),
        a[1] + t * (b[1] - a[1]),
        a[2] + t * (b[2] - a[2]),
    ]
}

/// HSV value and saturation, both `0..=255`.
pub(crate) fn value_saturation(c: [f32; 3]) -> (f32, f32) {
    let max = c[0].max(c[1]).max(c[2]);
    let min = c[0].min(c[1]).min(c[2]);
    let s = if max > 0.0 {
        (max - min) / max * 255.0
    } else {
        0.0
    };
    (max, s)
}

/// Scales HSV value by `fv` and saturation by `fs`, keeping hue.
#[inline]
pub(crate) fn adjust_value_saturation(c: [f32; 3], fv: f32, fs: f32) -> [f32; 3] {
    let scaled = |v: f32| (v * fv).clamp(0.0, 255.0);
    let c = [scaled(c[0]), scaled(c[1]), scaled(c[2])];
    let max = c[0].max(c[1]).max(c[2]);
    let sat = |v: f32| (max - (max - v) * fs).clamp(0.0, max);
    [sat(c[0]), sat(c[1]), sat(c[2])]
}

/// Mean HSV value and saturation of the skin between the outer eye corners and the mouth
/// corners (cheeks and nose), the region the mask will cover.
pub(crate) fn skin_value_saturation(
    img: &RgbImage,
    lm: &[Point; N_LANDMARKS],
) -> Option<(f32, f32)> {
    let (q0, q1, q2, q3) = (lm[36], lm[45], lm[54], lm[48]);
    let (w, h) = (img.width() as f32, img.height() as f32);
    const N: usize = 12;
    let (mut sv, mut ss, mut n) = (0.0f32, 0.0f32, 0u32);
    for j in 0..N {
        let t = 0.2 + 0.75 * (j as f32 + 0.5) / N as f32;
        for i in 0..N {
            let s = 0.05 + 0.9 * (i as f32 + 0.5) / N as f32;
            let top = [q0[0] + s * (q1[0] - q0[0]), q0[1] + s * (q1[1] - q0[1])];
            let bottom = [q3[0] + s * (q2[0] - q3[0]), q3[1] + s * (q2[1] - q3[1])];
            let p = [
                top[0] + t * (bottom[0] - top[0]),
                top[1] + t * (bottom[1] - top[1]),
            ];
            if !(p[0] >= 0.0 && p[1] >= 0.0 && p[0] < w && p[1] < h) {
                continue;
            }
            let px = img.get_pixel(p[0] as u32, p[1] as u32).0;
            let (v, sat) = value_saturation(px.map(|c| c as f32));
            sv += v;
            ss += sat;
            n += 1;
        }
    }
    (n > 0).then(|| (sv / n as f32, ss / n as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(Rgb::from_hex("#0473e2").unwrap(), Rgb([4, 115, 226]));
        assert_eq!(Rgb::from_hex("0473E2").unwrap().to_hex(), "#0473e2");
        for bad in ["", "#12345", "#12345g", "#1234567", "#ééé"] {
            assert!(Rgb::from_hex(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_stay_in_their_palette() {
        for pattern in Pattern::ALL {
            let style = PatternStyle {
                pattern,
                weight: 1.0,
                colors: [Rgb([10, 20, 30]), Rgb([200, 100, 50])],
                scale: 20.0,
                angle_degrees: 30.0,
            };
            let mut seen = [false; 2];
            for i in 0..400 {
                let c = style.color_at([i as f32 * 0.7, i as f32 * 1.3 % 97.0]);
                assert!(c.iter().all(|v| v.is_finite() && (0.0..=255.0).contains(v)));
                seen[(c[0] > 105.0) as usize] = true;
            }
            assert!(seen[0] && seen[1], "{pattern:?} shows both colours");
        }
    }

    #[test]
    fn saturation_adjustment_keeps_grey_grey() {
        let close = |c: [f32; 3], v: f32| c.iter().all(|x| (x - v).abs() < 1e-3);
        assert!(close(
            adjust_value_saturation([100.0, 100.0, 100.0], 1.2, 1.5),
            120.0
        ));
        assert!(close(
            adjust_value_saturation([200.0, 100.0, 50.0], 1.0, 0.0),
            200.0
        ));
    }
}
