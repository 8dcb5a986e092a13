//! Parametric mask templates, drawn once per (type, variant) and cached.
//!
//! All templates share one frame: a 400 x 300 canvas in which a mean face's anchor points land
//! on fixed spots (jaw at nose-tip height near x = 50 and 350, y = 85; chin near y = 260), so
//! each mask is drawn directly "on a face" and the homography to a real face is close to a
//! similarity. A template stores coverage, the share of recolourable fabric, a luminance
//! shading layer, the colour of non-fabric parts and a soft shadow, so colour and texture are
//! chosen per sample at render time.

mod cloth;
mod gas;
mod respirator;
mod surgical;

use std::str::FromStr;
use std::sync::OnceLock;

use image::{ImageBuffer, Luma};
use serde::{Deserialize, Serialize};

use crate::anchors::{anchor_points, TemplateVariant};
use crate::appearance::Rgb;
use crate::error::MaskError;
use crate::mean_face::mean_face;
use crate::raster::{Canvas, Warp, SHADE_UNIT};
use crate::Point;

/// Template canvas size in template units (one texel each).
pub(crate) const TEMPLATE_W: usize = 400;
pub(crate) const TEMPLATE_H: usize = 300;

/// Yaw of the turned variants, radians.
const TURN: f32 = 0.5;

/// The kinds of mask MaskTheFace offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskType {
    Surgical,
    SurgicalBlue,
    SurgicalGreen,
    N95,
    Kn95,
    Cloth,
    Gas,
}

impl MaskType {
    pub const ALL: [MaskType; 7] = [
        Self::Surgical,
        Self::SurgicalBlue,
        Self::SurgicalGreen,
        Self::N95,
        Self::Kn95,
        Self::Cloth,
        Self::Gas,
    ];

    /// The serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Surgical => "surgical",
            Self::SurgicalBlue => "surgical_blue",
            Self::SurgicalGreen => "surgical_green",
            Self::N95 => "n95",
            Self::Kn95 => "kn95",
            Self::Cloth => "cloth",
            Self::Gas => "gas",
        }
    }

    /// The colour of the mask's fabric before any colour or texture blend.
    pub fn base_color(self) -> Rgb {
        Rgb(match self {
            Self::Surgical => [226, 230, 233],
            Self::SurgicalBlue => [128, 184, 222],
            Self::SurgicalGreen => [140, 200, 178],
            Self::N95 => [232, 229, 220],
            Self::Kn95 => [242, 242, 240],
            Self::Cloth => [46, 46, 50],
            Self::Gas => [58, 102, 124],
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for MaskType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MaskType {
    type Err = MaskError;
    fn from_str(s: &str) -> Result<Self, MaskError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| MaskError::InvalidConfig(format!("unknown mask type {s:?}")))
    }
}

/// Which side of a turned template is foreshortened (and hides its ear loop or strap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

/// Everything a type's drawing code needs to know about the variant.
pub(crate) struct DrawContext {
    pub(crate) hidden: Option<Side>,
}

impl DrawContext {
    pub(crate) fn shows(&self, side: Side) -> bool {
        self.hidden != Some(side)
    }
}

/// One bilinear sample of a template.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TexelSample {
    /// Coverage in `[0, 1]`; the renderer composites with exactly this value.
    pub alpha: f32,
    /// Share of recolourable fabric in `[0, 1]`.
    pub fabric: f32,
    /// Luminance multiplier (pleats, folds, curvature).
    pub shade: f32,
    /// Strength of the shadow cast on the face, `[0, 1]`.
    pub shadow: f32,
    /// Colour of the non-fabric parts, `0..=255` per channel.
    pub detail: [f32; 3],
}

/// A drawn mask template of one type and variant.
pub struct Template {
    mask_type: MaskType,
    variant: TemplateVariant,
    anchors: [Point; 6],
    /// Per texel: alpha, fabric, shade (x `SHADE_UNIT`), shadow, r, g, b, unused.
    texels: Vec<[u8; 8]>,
    content: [f32; 4],
    pub(crate) stats: TemplateStats,
}

/// Averages used to match the mask's brightness to the face.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TemplateStats {
    /// Coverage-weighted share of fabric.
    pub(crate) fabric_share: f32,
    /// Mean shade over the fabric.
    pub(crate) fabric_shade: f32,
    /// Mean shaded colour of the non-fabric parts.
    pub(crate) detail_rgb: [f32; 3],
}

impl Template {
    /// The cached template; drawn on first use.
    pub fn get(mask_type: MaskType, variant: TemplateVariant) -> &'static Template {
        static CACHE: [[OnceLock<Template>; 3]; 7] = [const { [const { OnceLock::new() }; 3] }; 7];
        let v = match variant {
            TemplateVariant::Front => 0,
            TemplateVariant::Left => 1,
            TemplateVariant::Right => 2,
        };
        CACHE[mask_type.index()][v].get_or_init(|| build(mask_type, variant))
    }

    pub fn mask_type(&self) -> MaskType {
        self.mask_type
    }

    pub fn variant(&self) -> TemplateVariant {
        self.variant
    }

    pub fn width(&self) -> u32 {
        TEMPLATE_W as u32
    }

    pub fn height(&self) -> u32 {
        TEMPLATE_H as u32
    }

    /// The template's anchor points `a, b, c, d, e, f` in template units.
    pub fn anchors(&self) -> [Point; 6] {
        self.anchors
    }

    /// Bounds `[x0, y0, x1, y1]` of everything drawn, shadow included.
    pub fn content_bounds(&self) -> [f32; 4] {
        self.content
    }

    /// Bilinear sample at `p` (template units, texel `(i, j)` centred on `(i + 0.5, j + 0.5)`);
    /// transparent outside the canvas and at non-finite `p`. Colour-like channels are weighted
    /// by coverage so that edges do not darken towards the transparent border.
    #[inline]
    pub fn sample(&self, p: Point) -> TexelSample {
        let (fx, fy) = (p[0] - 0.5, p[1] - 0.5);
        if !(fx > -1.0 && fy > -1.0 && fx < TEMPLATE_W as f32 && fy < TEMPLATE_H as f32) {
            return TexelSample::default();
        }
        // fx, fy > -1 here, so truncating fx + 1 floors without a libm call.
        let (x0, y0) = ((fx + 1.0) as i32 - 1, (fy + 1.0) as i32 - 1);
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        const CLEAR: [u8; 8] = [0; 8];
        let texel = |x: i32, y: i32| -> &[u8; 8] {
            if x >= 0 && y >= 0 && x < TEMPLATE_W as i32 && y < TEMPLATE_H as i32 {
                &self.texels[y as usize * TEMPLATE_W + x as usize]
            } else {
                &CLEAR
            }
        };
        let taps = [
            (texel(x0, y0), (1.0 - tx) * (1.0 - ty)),
            (texel(x0 + 1, y0), tx * (1.0 - ty)),
            (texel(x0, y0 + 1), (1.0 - tx) * ty),
            (texel(x0 + 1, y0 + 1), tx * ty),
        ];
        if taps.iter().all(|(t, _)| t[0] == 0 && t[3] == 0) {
            return TexelSample::default();
        }
        let (mut alpha, mut shadow, mut fabric, mut shade) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        let (mut detail, mut detail_w) = ([0.0f32; 3], 0.0f32);
        for (t, w) in taps {
            shadow += w * t[3] as f32;
            let wa = w * t[0] as f32;
            alpha += wa;
            fabric += wa * t[1] as f32;
            shade += wa * t[2] as f32;
            let wd = wa * (255 - t[1]) as f32;
            detail_w += wd;
            for c in 0..3 {
                detail[c] += wd * t[4 + c] as f32;
            }
        }
        if alpha <= 0.0 {
            return TexelSample {
                shadow: shadow / 255.0,
                ..TexelSample::default()
            };
        }
        if detail_w > 0.0 {
            detail = detail.map(|v| v / detail_w);
        }
        TexelSample {
            alpha: alpha / 255.0,
            fabric: fabric / alpha / 255.0,
            shade: shade / alpha / SHADE_UNIT,
            shadow: shadow / 255.0,
            detail,
        }
    }

    /// Coverage at `p`: the `alpha` of [`Template::sample`].
    pub fn alpha_at(&self, p: Point) -> f32 {
        self.sample(p).alpha
    }
}

/// The anchor points of the mean face in the template frame: eye line horizontal, jaw points
/// at nose-tip height 300 units apart, centred on (200, 85).
fn canonical_anchors() -> [Point; 6] {
    let fallback = [
        [50.0, 85.0],
        [200.0, 45.0],
        [350.0, 85.0],
        [86.0, 185.0],
        [200.0, 261.0],
        [314.0, 185.0],
    ];
    let lm = mean_face([0.0, 0.0], 1000.0);
    let Ok(anchors) = anchor_points(&lm) else {
        return fallback;
    };
    let eye_l = lm[36..42]
        .iter()
        .fold([0.0, 0.0], |s, p| [s[0] + p[0] / 6.0, s[1] + p[1] / 6.0]);
    let eye_r = lm[42..48]
        .iter()
        .fold([0.0, 0.0], |s, p| [s[0] + p[0] / 6.0, s[1] + p[1] / 6.0]);
    let angle = (eye_r[1] - eye_l[1]).atan2(eye_r[0] - eye_l[0]);
    let (sn, cs) = (-angle).sin_cos();
    let rot = |p: Point| [cs * p[0] - sn * p[1], sn * p[0] + cs * p[1]];
    let pts = anchors.to_array().map(rot);
    let (a, c) = (pts[0], pts[2]);
    let k = 300.0 / (c[0] - a[0]);
    let mid = [(a[0] + c[0]) / 2.0, (a[1] + c[1]) / 2.0];
    pts.map(|p| [200.0 + k * (p[0] - mid[0]), 85.0 + k * (p[1] - mid[1])])
}

fn build(mask_type: MaskType, variant: TemplateVariant) -> Template {
    let (warp, hidden) = match variant {
        TemplateVariant::Front => (Warp { psi: 0.0 }, None),
        TemplateVariant::Left => (Warp { psi: -TURN }, Some(Side::Left)),
        TemplateVariant::Right => (Warp { psi: TURN }, Some(Side::Right)),
    };
    let ctx = DrawContext { hidden };
    let mut canvas = Canvas::new(TEMPLATE_W, TEMPLATE_H, warp);
    let body_shade: fn(f32, f32) -> f32 = match mask_type {
        MaskType::Surgical | MaskType::SurgicalBlue | MaskType::SurgicalGreen => {
            surgical::draw(&mut canvas, &ctx);
            surgical::body_shade
        }
        MaskType::N95 => {
            respirator::draw_n95(&mut canvas, &ctx);
            respirator::n95_shade
        }
        MaskType::Kn95 => {
            respirator::draw_kn95(&mut canvas, &ctx);
            respirator::kn95_shade
        }
        MaskType::Cloth => {
            cloth::draw(&mut canvas, &ctx);
            cloth::body_shade
        }
        MaskType::Gas => {
            gas::draw(&mut canvas, &ctx);
            gas::body_shade
        }
    };
    let layers = canvas.finish();

    let n = TEMPLATE_W * TEMPLATE_H;
    let mut texels = vec![[0u8; 8]; n];
    for ty in 0..TEMPLATE_H {
        for tx in 0..TEMPLATE_W {
            let i = ty * TEMPLATE_W + tx;
            if layers.alpha[i] <= 0.0 {
                continue;
            }
            let (x, y) = (tx as f32 + 0.5, ty as f32 + 0.5);
            let procedural = body_shade(warp.inverse_x(x), y);
            let curvature = 0.72 + 0.28 * warp.facing(x);
            let body = layers.body[i];
            let shade = layers.shade[i] * (body * procedural + 1.0 - body) * curvature;
            let q = |v: f32| v.round().clamp(0.0, 255.0) as u8;
            let rgb = layers.rgb[i];
            texels[i] = [
                q(layers.alpha[i] * 255.0),
                q(layers.fabric[i] * 255.0),
                q(shade * SHADE_UNIT),
                0,
                q(rgb[0]),
                q(rgb[1]),
                q(rgb[2]),
                0,
            ];
        }
    }
    add_shadow(&mut texels);

    let warp_anchor = |p: Point| warp.forward(p);
    Template {
        mask_type,
        variant,
        anchors: canonical_anchors().map(warp_anchor),
        content: content_bounds(&texels),
        stats: stats(&texels),
        texels,
    }
}

/// A soft contact shadow around the mask, strongest along its upper edge where the mask stands
/// off the nose and cheeks.
fn add_shadow(texels: &mut [[u8; 8]]) {
    let alpha: ImageBuffer<Luma<f32>, Vec<f32>> =
        ImageBuffer::from_fn(TEMPLATE_W as u32, TEMPLATE_H as u32, |x, y| {
            Luma([texels[y as usize * TEMPLATE_W + x as usize][0] as f32 / 255.0])
        });
    let blurred = imageproc::filter::gaussian_blur_f32(&alpha, 4.0);
    const DROP: u32 = 3;
    for y in 0..TEMPLATE_H as u32 {
        let upper = ((150.0 - y as f32) / 90.0).clamp(0.35, 1.0);
        for x in 0..TEMPLATE_W as u32 {
            let src_y = (y + DROP).min(TEMPLATE_H as u32 - 1);
            let s = blurred.get_pixel(x, src_y)[0] * upper;
            texels[y as usize * TEMPLATE_W + x as usize][3] =
                (s * 255.0).round().clamp(0.0, 255.0) as u8;
        }
    }
}

fn content_bounds(texels: &[[u8; 8]]) -> [f32; 4] {
    let mut b = [
        f32::INFINITY,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NEG_INFINITY,
    ];
    for (i, t) in texels.iter().enumerate() {
        if t[0] == 0 && t[3] == 0 {
            continue;
        }
        let (x, y) = ((i % TEMPLATE_W) as f32, (i / TEMPLATE_W) as f32);
        b = [
            b[0].min(x),
            b[1].min(y),
            b[2].max(x + 1.0),
            b[3].max(y + 1.0),
        ];
    }
    if b[0].is_finite() {
        b
    } else {
        [0.0, 0.0, 0.0, 0.0]
    }
}

fn stats(texels: &[[u8; 8]]) -> TemplateStats {
    let (mut a_sum, mut f_sum, mut fs_sum, mut d_sum) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut d_rgb = [0.0f64; 3];
    for t in texels {
        let a = t[0] as f64 / 255.0;
        if a == 0.0 {
            continue;
        }
        let f = t[1] as f64 / 255.0;
        let shade = t[2] as f64 / SHADE_UNIT as f64;
        a_sum += a;
        f_sum += a * f;
        fs_sum += a * f * shade;
        d_sum += a * (1.0 - f);
        for c in 0..3 {
            d_rgb[c] += a * (1.0 - f) * shade * t[4 + c] as f64;
        }
    }
    TemplateStats {
        fabric_share: if a_sum > 0.0 {
            (f_sum / a_sum) as f32
        } else {
            1.0
        },
        fabric_shade: if f_sum > 0.0 {
            (fs_sum / f_sum) as f32
        } else {
            1.0
        },
        detail_rgb: d_rgb.map(|v| if d_sum > 0.0 { (v / d_sum) as f32 } else { 0.0 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_anchors_are_near_the_design_spots() {
        let a = canonical_anchors();
        let design = [
            [50.0, 85.0],
            [200.0, 45.0],
            [350.0, 85.0],
            [86.0, 185.0],
            [200.0, 261.0],
            [314.0, 185.0],
        ];
        for (p, q) in a.iter().zip(design) {
            assert!(
                (p[0] - q[0]).abs() < 12.0 && (p[1] - q[1]).abs() < 12.0,
                "{p:?} vs {q:?}"
            );
        }
    }

    #[test]
    fn every_template_covers_its_anchors_region() {
        for t in MaskType::ALL {
            for v in TemplateVariant::ALL {
                let tpl = Template::get(t, v);
                let [a, b, c, d, e, f] = tpl.anchors();
                // The face between the anchors is under the mask.
                let centre = [(a[0] + c[0] + d[0] + f[0]) / 4.0, (b[1] + e[1]) / 2.0];
                assert!(tpl.alpha_at(centre) > 0.99, "{t} {v:?} centre {centre:?}");
                for p in [b, d, f] {
                    assert!(tpl.alpha_at(p) > 0.5, "{t} {v:?} anchor {p:?}");
                }
                assert!(tpl.alpha_at([1.0, 1.0]) == 0.0);
            }
        }
    }
}
