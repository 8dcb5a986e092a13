//! Styles, their random sampling, and compositing a template onto a face.

use std::collections::BTreeMap;

use image::{GrayImage, RgbImage};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::anchors::{anchor_points, face_tilt_degrees, AnchorPoints, TemplateVariant};
use crate::appearance::{adjust_value_saturation, lerp3, skin_value_saturation, value_saturation};
use crate::appearance::{ColorBlend, Pattern, PatternSampler, PatternStyle, Rgb};
use crate::error::MaskError;
use crate::homography::Homography;
use crate::templates::{MaskType, Template};
use crate::{Point, N_LANDMARKS};

/// Everything that decides how one mask looks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaskStyle {
    pub mask_type: MaskType,
    pub color: Option<ColorBlend>,
    pub pattern: Option<PatternStyle>,
    /// Darkening of the face along the mask's edge, `[0, 1]`; 0 leaves pixels outside the
    /// mask untouched.
    pub shadow_strength: f32,
    /// How far the mask's HSV value moves towards the skin's, `[0, 1]` (MaskTheFace: 1).
    pub brightness_match: f32,
    /// Likewise for saturation.
    pub saturation_match: f32,
}

impl MaskStyle {
    /// The template's own colours, with the default shadow and matching.
    pub fn plain(mask_type: MaskType) -> Self {
        Self {
            mask_type,
            color: None,
            pattern: None,
            shadow_strength: DEFAULT_SHADOW,
            brightness_match: DEFAULT_MATCH,
            saturation_match: DEFAULT_MATCH,
        }
    }
}

const DEFAULT_SHADOW: f32 = 0.3;
const DEFAULT_MATCH: f32 = 0.5;

/// Distribution of mask styles, as read from a YAML/JSON configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskConfig {
    /// Relative weight of each mask type; missing types are never drawn.
    pub types: BTreeMap<MaskType, f32>,
    /// Probability of a colour blend.
    pub color_probability: f32,
    /// Palette (`#rrggbb`) for colour blends and pattern colours.
    pub colors: Vec<String>,
    pub color_weight: f32,
    /// Probability of a texture blend.
    pub texture_probability: f32,
    /// Relative weight of each pattern.
    pub patterns: BTreeMap<Pattern, f32>,
    pub texture_weight: f32,
    /// Range of pattern repeat lengths, template units (the mask is about 320 wide).
    pub pattern_scale: [f32; 2],
    pub shadow_strength: f32,
    pub brightness_match: f32,
    pub saturation_match: f32,
}

impl Default for MaskConfig {
    fn default() -> Self {
        Self {
            types: MaskType::ALL.into_iter().map(|t| (t, 1.0)).collect(),
            color_probability: 0.5,
            colors: [
                "#0473e2", "#1c1c20", "#f4f4f2", "#24406e", "#e8a0b4", "#7b8794", "#c92c48",
                "#3e7b4f", "#ffc900", "#6a506d", "#94b6d2", "#dd8047",
            ]
            .map(String::from)
            .to_vec(),
            color_weight: 0.5,
            texture_probability: 0.25,
            patterns: Pattern::ALL.into_iter().map(|p| (p, 1.0)).collect(),
            texture_weight: 0.5,
            pattern_scale: [14.0, 40.0],
            shadow_strength: DEFAULT_SHADOW,
            brightness_match: DEFAULT_MATCH,
            saturation_match: DEFAULT_MATCH,
        }
    }
}

impl MaskConfig {
    /// Checks ranges and colours; [`sample_style`] tolerates a bad configuration, but a
    /// pipeline should refuse it up front.
    pub fn validate(&self) -> Result<(), MaskError> {
        let bad = |m: String| Err(MaskError::InvalidConfig(m));
        let weights_ok = |w: &mut dyn Iterator<Item = f32>| {
            let v: Vec<f32> = w.collect();
            v.iter().all(|x| x.is_finite() && *x >= 0.0) && v.iter().any(|x| *x > 0.0)
        };
        if !weights_ok(&mut self.types.values().copied()) {
            return bad("types need finite, non-negative weights, one of them positive".into());
        }
        if self.texture_probability > 0.0 && !weights_ok(&mut self.patterns.values().copied()) {
            return bad("patterns need finite, non-negative weights, one of them positive".into());
        }
        for (name, v) in [
            ("color_probability", self.color_probability),
            ("color_weight", self.color_weight),
            ("texture_probability", self.texture_probability),
            ("texture_weight", self.texture_weight),
            ("shadow_strength", self.shadow_strength),
            ("brightness_match", self.brightness_match),
            ("saturation_match", self.saturation_match),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} = {v} is outside [0, 1]"));
            }
        }
        let [lo, hi] = self.pattern_scale;
        if !(lo.is_finite() && hi.is_finite() && lo >= 2.0 && lo <= hi) {
            return bad(format!(
                "pattern_scale {lo}..{hi} must be finite with 2 <= min <= max"
            ));
        }
        if self.colors.is_empty()
            && (self.color_probability > 0.0 || self.texture_probability > 0.0)
        {
            return bad("colors is empty".into());
        }
        for c in &self.colors {
            Rgb::from_hex(c)?;
        }
        Ok(())
    }
}

/// Draws one style from the configuration. Never panics: invalid parts of a configuration
/// fall back to defaults (surgical mask, no blend).
pub fn sample_style<R: Rng + ?Sized>(cfg: &MaskConfig, rng: &mut R) -> MaskStyle {
    let mask_type = pick_weighted(&cfg.types, rng).unwrap_or(MaskType::Surgical);
    let palette: Vec<Rgb> = cfg
        .colors
        .iter()
        .filter_map(|c| Rgb::from_hex(c).ok())
        .collect();
    let pick_color = |rng: &mut R| -> Option<Rgb> {
        (!palette.is_empty()).then(|| palette[rng.random_range(0..palette.len())])
    };

    let color = if rng.random::<f32>() < cfg.color_probability {
        pick_color(rng).map(|color| ColorBlend {
            color,
            weight: unit(cfg.color_weight, 0.5),
        })
    } else {
        None
    };
    let pattern = if rng.random::<f32>() < cfg.texture_probability {
        let kind = pick_weighted(&cfg.patterns, rng);
        match (kind, pick_color(rng), pick_color(rng)) {
            (Some(pattern), Some(c0), Some(c1)) => {
                let c1 = if c1 == c0 { contrast_partner(c0) } else { c1 };
                let [lo, hi] = cfg.pattern_scale;
                let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo >= 2.0 && lo <= hi {
                    (lo, hi)
                } else {
                    (14.0, 40.0)
                };
                Some(PatternStyle {
                    pattern,
                    weight: unit(cfg.texture_weight, 0.5),
                    colors: [c0, c1],
                    scale: lo + (hi - lo) * rng.random::<f32>(),
                    angle_degrees: 180.0 * rng.random::<f32>(),
                })
            }
            _ => None,
        }
    } else {
        None
    };
    MaskStyle {
        mask_type,
        color,
        pattern,
        shadow_strength: unit(cfg.shadow_strength, DEFAULT_SHADOW),
        brightness_match: unit(cfg.brightness_match, DEFAULT_MATCH),
        saturation_match: unit(cfg.saturation_match, DEFAULT_MATCH),
    }
}

fn pick_weighted<K: Copy + Ord, R: Rng + ?Sized>(
    weights: &BTreeMap<K, f32>,
    rng: &mut R,
) -> Option<K> {
    let valid = |w: f32| w.is_finite() && w > 0.0;
    let total: f32 = weights.values().copied().filter(|w| valid(*w)).sum();
    if !(total.is_finite() && total > 0.0) {
        return None;
    }
    let mut x = rng.random::<f32>() * total;
    let mut last = None;
    for (k, w) in weights.iter().filter(|(_, w)| valid(**w)) {
        last = Some(*k);
        if x < *w {
            return Some(*k);
        }
        x -= w;
    }
    last
}

/// A colour that stands out against `c`: white on dark colours, near-black on light ones.
fn contrast_partner(c: Rgb) -> Rgb {
    let (v, _) = value_saturation(c.0.map(|x| x as f32));
    if v < 128.0 {
        Rgb([245, 245, 240])
    } else {
        Rgb([30, 30, 34])
    }
}

fn unit(x: f32, default: f32) -> f32 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        default
    }
}

/// A face with a mask drawn on it.
#[derive(Clone, Debug)]
pub struct RenderedMask {
    /// The masked face, the size of the input. Outside `mask` it differs from the input only
    /// by the anti-aliased rim (coverage <= 0.5) and the soft shadow; `shadow_strength = 0`
    /// leaves only the rim.
    pub image: RgbImage,
    /// 255 exactly where the composited coverage exceeds 0.5, else 0.
    pub mask: GrayImage,
    pub anchors: AnchorPoints,
    pub tilt_degrees: f32,
    pub variant: TemplateVariant,
    /// Share of the image's pixels in `mask`.
    pub area_fraction: f32,
    /// Template units to image pixels. Pixel `(x, y)` took its coverage from
    /// `template.sample(homography.inverse()?.apply([x + 0.5, y + 0.5]))`.
    pub homography: Homography,
}

/// How far outside the image (in image sizes) anchors may lie.
const ANCHOR_MARGIN: f32 = 1.0;
/// Largest accepted ratio of local area scales across the template (rejects extreme
/// perspective from inconsistent anchors).
const MAX_AREA_SCALE_RATIO: f64 = 25.0;
/// Largest accepted anchor misfit, as a share of the jaw width at nose height.
const MAX_MISFIT: f32 = 0.35;

/// Draws `style`'s mask on `face` at the placement given by the 68 landmarks.
///
/// Errors on non-finite or absurd landmarks, landmarks that do not form a face (collapsed,
/// mirrored, anchors that would fold or overstretch the template), anchors more than one
/// image size outside the image, and an empty image. Work is limited to the bounding box of
/// the mapped template.
pub fn render_mask(
    face: &RgbImage,
    lm: &[Point; N_LANDMARKS],
    style: &MaskStyle,
) -> Result<RenderedMask, MaskError> {
    let (w, h) = face.dimensions();
    if w == 0 || h == 0 {
        return Err(MaskError::EmptyImage);
    }
    let anchors = anchor_points(lm)?;
    let (wf, hf) = (w as f32, h as f32);
    for p in anchors.to_array() {
        let inside_x = p[0] >= -ANCHOR_MARGIN * wf && p[0] <= (1.0 + ANCHOR_MARGIN) * wf;
        let inside_y = p[1] >= -ANCHOR_MARGIN * hf && p[1] <= (1.0 + ANCHOR_MARGIN) * hf;
        if !(inside_x && inside_y) {
            return Err(MaskError::MaskOutsideImage(format!(
                "anchor {p:?} is far outside the {w}x{h} image"
            )));
        }
    }
    let tilt_degrees = face_tilt_degrees(lm);
    let variant = TemplateVariant::from_tilt(tilt_degrees);
    let tpl = Template::get(style.mask_type, variant);
    let homography = Homography::fit(&tpl.anchors(), &anchors.to_array())?;
    // Long or narrow faces can make the projective fit fold the template's far corners while
    // the face itself is fine; an affine fit cannot fold, and the misfit check still applies.
    let homography = match check_placement(&homography, tpl, &anchors) {
        Ok(()) => homography,
        Err(_) => {
            let affine = Homography::fit_affine(&tpl.anchors(), &anchors.to_array())?;
            check_placement(&affine, tpl, &anchors)?;
            affine
        }
    };
    let inverse = homography.inverse()?;

    let look = Look::new(face, lm, style, tpl);
    let mut image = face.clone();
    let mut mask = GrayImage::new(w, h);
    let mut covered = 0u64;
    let [x0, y0, x1, y1] = pixel_bounds(&homography, tpl, w, h);
    let rgb = image.as_mut();
    let bits = mask.as_mut();
    for y in y0..y1 {
        for x in x0..x1 {
            let tp = inverse.apply([x as f32 + 0.5, y as f32 + 0.5]);
            let s = tpl.sample(tp);
            if s.alpha <= 0.0 && s.shadow <= 0.0 {
                continue;
            }
            let i = y as usize * w as usize + x as usize;
            let px = &mut rgb[3 * i..3 * i + 3];
            let dim = 1.0 - look.shadow * s.shadow;
            let bg = [px[0] as f32 * dim, px[1] as f32 * dim, px[2] as f32 * dim];
            let out = if s.alpha > 0.0 {
                let fabric = if s.fabric > 0.0 {
                    look.fabric_at(tp)
                } else {
                    [0.0; 3]
                };
                let albedo = lerp3(s.detail, fabric, s.fabric);
                let shaded = [
                    albedo[0] * s.shade,
                    albedo[1] * s.shade,
                    albedo[2] * s.shade,
                ];
                let color = adjust_value_saturation(shaded, look.value, look.saturation);
                lerp3(bg, color, s.alpha)
            } else {
                bg
            };
            for c in 0..3 {
                px[c] = (out[c].clamp(0.0, 255.0) + 0.5) as u8;
            }
            if s.alpha > 0.5 {
                bits[i] = 255;
                covered += 1;
            }
        }
    }
    Ok(RenderedMask {
        image,
        mask,
        anchors,
        tilt_degrees,
        variant,
        area_fraction: covered as f32 / (w as f64 * h as f64) as f32,
        homography,
    })
}

/// Rejects placements that would fold, flip or wildly stretch the template.
fn check_placement(
    hom: &Homography,
    tpl: &Template,
    anchors: &AnchorPoints,
) -> Result<(), MaskError> {
    let [bx0, by0, bx1, by1] = tpl.content_bounds();
    let corners = [[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]];
    let den: Vec<f64> = corners.iter().map(|c| hom.denominator(*c)).collect();
    if !(den.iter().all(|d| *d > 0.0) || den.iter().all(|d| *d < 0.0)) {
        return Err(MaskError::DegenerateLandmarks(
            "the mask would wrap through infinity".into(),
        ));
    }
    let jac: Vec<f64> = corners.iter().map(|c| hom.jacobian_det(*c)).collect();
    let (lo, hi) = jac.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), j| {
        (lo.min(j.abs()), hi.max(j.abs()))
    });
    if !(jac.iter().all(|j| *j > 0.0) || jac.iter().all(|j| *j < 0.0))
        || !(hi <= MAX_AREA_SCALE_RATIO * lo)
    {
        return Err(MaskError::DegenerateLandmarks(
            "the mask would fold or stretch too far".into(),
        ));
    }
    let width = {
        let (a, c) = (anchors.a, anchors.c);
        ((c[0] - a[0]).powi(2) + (c[1] - a[1]).powi(2)).sqrt()
    };
    for (t, p) in tpl.anchors().iter().zip(anchors.to_array()) {
        let q = hom.apply(*t);
        let miss = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
        if !(miss <= MAX_MISFIT * width) {
            return Err(MaskError::DegenerateLandmarks(format!(
                "anchors do not form a face shape (misfit {miss:.1} px for a jaw width {width:.1} px)"
            )));
        }
    }
    Ok(())
}

/// Pixel rectangle `[x0, y0, x1, y1)` covering the mapped template content, clipped to the
/// image.
fn pixel_bounds(hom: &Homography, tpl: &Template, w: u32, h: u32) -> [u32; 4] {
    let [bx0, by0, bx1, by1] = tpl.content_bounds();
    let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for c in [[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]] {
        let p = hom.apply(c);
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let clip = |v: f32, max: u32| {
        if v.is_finite() {
            v.clamp(0.0, max as f32) as u32
        } else {
            0
        }
    };
    let x0 = clip(lo[0].floor() - 1.0, w);
    let y0 = clip(lo[1].floor() - 1.0, h);
    let x1 = clip(hi[0].ceil() + 1.0, w);
    let y1 = clip(hi[1].ceil() + 1.0, h);
    [x0, y0, x1.max(x0), y1.max(y0)]
}

/// Per-render colour decisions.
struct Look {
    fabric: [f32; 3],
    pattern: Option<PatternSampler>,
    pattern_weight: f32,
    value: f32,
    saturation: f32,
    shadow: f32,
}

impl Look {
    fn new(face: &RgbImage, lm: &[Point; N_LANDMARKS], style: &MaskStyle, tpl: &Template) -> Self {
        let mut fabric = style.mask_type.base_color().0.map(|v| v as f32);
        if let Some(blend) = &style.color {
            fabric = lerp3(
                fabric,
                blend.color.0.map(|v| v as f32),
                unit(blend.weight, 0.5),
            );
        }
        let pattern = style.pattern.as_ref();
        let pattern_weight = pattern.map_or(0.0, |p| unit(p.weight, 0.5));
        let mean_fabric = pattern.map_or(fabric, |p| lerp3(fabric, p.mean_color(), pattern_weight));

        let st = &tpl.stats;
        let mask_mean = lerp3(
            st.detail_rgb,
            mean_fabric.map(|v| v * st.fabric_shade),
            st.fabric_share,
        );
        let (mask_v, mask_s) = value_saturation(mask_mean);
        let (skin_v, skin_s) = skin_value_saturation(face, lm).unwrap_or((mask_v, mask_s));
        let bm = unit(style.brightness_match, DEFAULT_MATCH);
        let sm = unit(style.saturation_match, DEFAULT_MATCH);
        Self {
            fabric,
            pattern: pattern.map(PatternSampler::new),
            pattern_weight,
            value: (1.0 + bm * (skin_v - mask_v) / 255.0).clamp(0.5, 1.4),
            saturation: (1.0 + sm * (skin_s - mask_s) / 255.0).clamp(0.5, 1.5),
            shadow: unit(style.shadow_strength, DEFAULT_SHADOW),
        }
    }

    #[inline]
    fn fabric_at(&self, tp: Point) -> [f32; 3] {
        match &self.pattern {
            Some(p) if self.pattern_weight > 0.0 => {
                lerp3(self.fabric, p.color_at(tp), self.pattern_weight)
            }
            _ => self.fabric,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn config_round_trips_and_validates() {
        let cfg = MaskConfig::default();
        cfg.validate().unwrap();
        let mut bad = cfg.clone();
        bad.colors.push("blue".into());
        assert!(bad.validate().is_err());
        let mut bad = cfg.clone();
        bad.types.values_mut().for_each(|w| *w = 0.0);
        assert!(bad.validate().is_err());
        let mut bad = cfg;
        bad.color_weight = f32::NAN;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn sampling_is_deterministic_and_tolerates_bad_configs() {
        let cfg = MaskConfig::default();
        let draw = |seed| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            (0..50)
                .map(|_| sample_style(&cfg, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        let styles = draw(7);
        assert!(
            styles.iter().any(|s| s.color.is_some()) && styles.iter().any(|s| s.pattern.is_some())
        );
        let mut bad = MaskConfig {
            colors: vec!["nope".into()],
            ..MaskConfig::default()
        };
        bad.types.clear();
        bad.color_probability = 1.0;
        bad.texture_probability = 1.0;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let s = sample_style(&bad, &mut rng);
        assert_eq!(s.mask_type, MaskType::Surgical);
        assert!(s.color.is_none() && s.pattern.is_none());
    }
}
