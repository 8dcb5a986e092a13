//! [`Unmasker`]: the whole photo path. Every face found is aligned and cropped, its mask
//! segmented and checked (a confident mask over the mouth and chin), inpainted, and pasted back
//! with a feathered blend at the photo's own resolution. Pixels outside the feathered hole
//! are the input's bit for bit; a photo without a face or a mask comes back unchanged.

use crate::hole_shape;
use crate::upper_face::lower_face_from_upper;
use anyhow::Result;
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use unmask_detect::{
    feathered, lower_face, mouth_and_chin, Alignment, Detector, FaceBox, FaceFinder, Landmarks68,
};
use unmask_inpaint::grain::match_grain;
use unmask_inpaint::inference::InpaintReport;
use unmask_inpaint::Inpainter;
use unmask_kernels::KernelBackend;
use unmask_seg::{inference::binarize, Segmenter};
use unmask_weights::WeightStore;

/// The side of the aligned face crop the models see.
pub const CROP_SIZE: u32 = 256;

/// How [`Unmasker`] decides which faces to fill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnmaskSettings {
    /// The smallest face score. Masked faces score lower than bare ones (on face-api's demo
    /// photos with synthetic masks SSD finds 15 of 22 above 0.5, 20 above 0.3, 21 above 0.2), and
    /// a bare face found by mistake is left alone by the mask check.
    pub min_face_score: f64,
    /// Also look for faces in an n x n grid of overlapping tiles of the photo
    /// ([`FaceFinder::detect_tiled`]), for 1 + n * n detector passes: a detector sees a
    /// whole photo at 512 px, where a face of a large group photo is small; 1 looks at the
    /// whole photo only.
    pub detect_tiles: u32,
    /// A face is left alone unless the confidently segmented mask covers at least this share
    /// of its mouth and chin (a face mask covers all of it; stray marks on a bare face do not).
    /// Today's quickstart segmenter, trained with distractors, covers at most 0.03 of a bare
    /// demo face's mouth and chin (its predecessor up to 0.10), but only 0.2-0.4 of some
    /// masked ones (white KN95s, N95s), so the default, 0.25, keeps a margin above the bare
    /// faces: on seven draws of masks on the demo photos it unmasked 1-3 more of the 22 faces
    /// than 0.5 did, lowered end-to-end LPIPS on each draw, and changed no bare face.
    pub min_coverage: f64,
    /// The mask probability above which a pixel counts towards `min_coverage` (the hole that
    /// is filled keeps the segmenter's own threshold).
    pub sure_probability: f32,
    /// The segmented hole is cut to the lower face ([`lower_face`]: the jaw line closed at the
    /// nose bridge) grown by this share of the crop's side; 1 keeps the whole crop. The
    /// segmenter marks bright backgrounds, hair and hands beside a face; on face-api's demo
    /// photos 0.08 raised its precision from 0.80 to 0.86 for 0.01 of recall.
    pub face_margin: f64,
    /// The mask probability above which a pixel is in the hole that is filled; none takes
    /// the segmenter's own threshold (chosen for Dice on synthetic faces). Each extra pixel
    /// the GAN fills costs more LPIPS than a pixel of mask left in place, so the default, 0.65,
    /// is above the quickstart segmenter's 0.5: on face-api's demo photos it lowered LPIPS by
    /// 0.0008-0.0029 on each of three draws of masks.
    pub hole_probability: Option<f32>,
    /// The hole grows into the pixels joined to it that the segmenter gives at least this
    /// mask probability ([`hole_shape::grow_into_unsure`]); the segmenter's own threshold
    /// or above turns the growth off.
    pub grow_probability: f32,
    /// The hole becomes the convex hull of its pieces that reach the mouth and chin
    /// ([`hole_shape::convex_hull_fill`]), cut to the lower face again: a face mask is one
    /// convex piece of cloth, and the parts the segmenter misses would stay in the photo.
    /// On by default: on the demo photos it lowered LPIPS by 0.0006-0.0033 on each of three
    /// draws of masks.
    pub convex_hole: bool,
    /// Place each face's landmarks with a second look of the landmark net at its box turned
    /// upright by the first look's eye line ([`unmask_detect::LandmarkNet::landmarks_upright`]); the crop,
    /// the mask check and the GAN's guide all follow the landmarks.
    pub upright_landmarks: bool,
    /// Each face's FFHQ crop is taken this much wider about its centre (1 keeps it). Under a
    /// mask the landmark net pulls the mouth up and the eyes together, which shrinks the
    /// crop: on face-api's demo photos with masks drawn it was a fifth smaller than on the
    /// bare photo for 6 of 22 faces, and the mask's lower edge fell outside it and stayed
    /// in the photo. The default, 1.1, unmasked one or two more of the 22 faces on each of
    /// three draws of masks and changed no bare face; 1.2 changed two.
    pub crop_zoom: f64,
    /// Segment each crop and its mirror image and average the two probability maps
    /// ([`Segmenter::probabilities_mirrored`]), for twice the segmenter's time.
    pub mirror: bool,
    /// Give each fill the fine grain of the skin around its hole
    /// ([`unmask_inpaint::grain::match_grain`]): the GAN's fill is scaled up from its own
    /// size and is smoother than the photo.
    pub grain: bool,
    /// Guide a landmark-guided GAN with the jaw, lower nose and mouth of the mean face fitted
    /// to the eyes and brows ([`lower_face_from_upper`]) instead of the landmark net's, which
    /// were trained on bare faces and are pulled up into a mask. The crop and the mask check
    /// keep the net's points: aligning on the fitted ones left 17 of the 22 demo faces
    /// unmasked instead of 18.
    pub guide_from_upper_face: bool,
}

impl Default for UnmaskSettings {
    fn default() -> Self {
        Self {
            min_face_score: 0.2,
            detect_tiles: 1,
            min_coverage: 0.25,
            sure_probability: 0.85,
            face_margin: 0.08,
            hole_probability: Some(0.65),
            grow_probability: 1.0,
            convex_hole: true,
            upright_landmarks: false,
            crop_zoom: 1.1,
            mirror: false,
            grain: true,
            guide_from_upper_face: true,
        }
    }
}

impl UnmaskSettings {
    /// Errors name the fields as `unmask.FIELD` (their place in `eval-unmask`'s parameters).
    pub fn validate(&self) -> Result<()> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.min_coverage),
            "unmask.min_coverage must be in [0, 1], got {}",
            self.min_coverage
        );
        // Probabilities are compared as bytes against round(p * 255); 0.99 keeps a margin
        // below the top byte, so a near-certain pixel always counts.
        anyhow::ensure!(
            (0.0..=0.99).contains(&self.sure_probability),
            "unmask.sure_probability must be in [0, 0.99], got {}",
            self.sure_probability
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.face_margin),
            "unmask.face_margin must be in [0, 1], got {}",
            self.face_margin
        );
        anyhow::ensure!(
            (1.0..=2.0).contains(&self.crop_zoom),
            "unmask.crop_zoom must be in [1, 2], got {}",
            self.crop_zoom
        );
        if let Some(p) = self.hole_probability {
            anyhow::ensure!(
                (0.0..=0.99).contains(&p),
                "unmask.hole_probability must be in [0, 0.99], got {p}"
            );
        }
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.grow_probability),
            "unmask.grow_probability must be in [0, 1], got {}",
            self.grow_probability
        );
        // 0 would keep every one of SSD's 5,118 anchors, 1 none.
        anyhow::ensure!(
            self.min_face_score > 0.0 && self.min_face_score < 1.0,
            "unmask.min_face_score must be between 0 and 1 (exclusive), got {}",
            self.min_face_score
        );
        anyhow::ensure!(
            (1..=MAX_DETECT_TILES).contains(&self.detect_tiles),
            "unmask.detect_tiles must be 1 to {MAX_DETECT_TILES}, got {}",
            self.detect_tiles
        );
        Ok(())
    }
}

/// The finest tile grid: 4 x 4 tiles (17 detector passes) already see a face at 2.7 times
/// its size in the whole photo.
pub const MAX_DETECT_TILES: u32 = 4;

/// What the user decided for one face, in place of the automatic mask check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceChoice {
    /// Unmask it when the mask check says it wears a mask.
    #[default]
    Auto,
    /// Unmask it whatever the check says (when there is a mask to fill).
    On,
    /// Leave it alone.
    Off,
}

/// Where the hole of a face came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskSource {
    Segmenter,
    /// [`Overrides::mask`].
    User,
}

/// Per-photo instructions beyond [`UnmaskSettings`]: the user's own masks and choices. Faces
/// are named by their index in detection order, which is the same for the same photo and
/// settings.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// A hole mask at the photo's size (white = fill), read inside each face's aligned crop in
    /// place of the segmenter's mask.
    pub mask: Option<GrayImage>,
    /// The faces [`Overrides::mask`] is for; `None`: every face.
    pub mask_faces: Option<Vec<usize>>,
    /// A mask at the photo's size for one face alone (before [`Overrides::mask`]): in a group
    /// photo one face's crop takes in its neighbours, whose strokes must not become its hole.
    pub face_masks: BTreeMap<usize, GrayImage>,
    /// Faces not named are [`FaceChoice::Auto`].
    pub choices: BTreeMap<usize, FaceChoice>,
}

/// [`Overrides`] that do not fit the photo: the caller's mistake, not the models' (the web
/// server answers it with a 400).
#[derive(Debug)]
pub struct InvalidOverrides(pub String);

impl std::fmt::Display for InvalidOverrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidOverrides {}

impl Overrides {
    fn choice(&self, face: usize) -> FaceChoice {
        self.choices.get(&face).copied().unwrap_or_default()
    }

    fn mask_for(&self, face: usize) -> Option<&GrayImage> {
        if let Some(own) = self.face_masks.get(&face) {
            return Some(own);
        }
        let named = self.mask_faces.as_ref().is_none_or(|f| f.contains(&face));
        self.mask.as_ref().filter(|_| named)
    }

    /// Checks the overrides against the photo, and the face indices against the faces found.
    fn check(&self, photo: &RgbImage, faces_found: Option<usize>) -> Result<(), InvalidOverrides> {
        let masks = self.mask.iter().map(|m| ("the mask".to_string(), m));
        let own = self
            .face_masks
            .iter()
            .map(|(i, m)| (format!("face {i}'s mask"), m));
        for (name, mask) in masks.chain(own) {
            if mask.dimensions() != photo.dimensions() {
                return Err(InvalidOverrides(format!(
                    "{name} is {}x{} but the photo is {}x{}: it must be the photo's size",
                    mask.width(),
                    mask.height(),
                    photo.width(),
                    photo.height()
                )));
            }
        }
        if let Some(found) = faces_found {
            let named = self
                .choices
                .keys()
                .chain(self.mask_faces.iter().flatten())
                .chain(self.face_masks.keys());
            if let Some(bad) = named.filter(|&&i| i >= found).min() {
                return Err(InvalidOverrides(format!(
                    "there is no face {bad}: {found} face(s) found (faces are numbered from 0)"
                )));
            }
        }
        Ok(())
    }
}

/// How far [`Unmasker::unmask_with`] has got: `done` of `total` steps (detection, landmarks,
/// then one per face), and what it does now.
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub step: String,
}

/// What happened to one face.
#[derive(Clone, Debug)]
pub struct FaceOutcome {
    pub face: FaceBox,
    pub landmarks: Landmarks68,
    /// The aligned crop the models saw.
    pub alignment: Alignment,
    /// The face's hole in its aligned crop (binary, before growing over the rim): the
    /// segmenter's or the user's.
    pub mask: GrayImage,
    pub mask_source: MaskSource,
    pub choice: FaceChoice,
    /// Share of the aligned crop the mask covers.
    pub mask_area: f64,
    /// Share of the mouth and chin the confident part of that mask covers.
    pub mouth_chin_coverage: f64,
    pub unmasked: bool,
    /// Why the face was filled or left alone.
    pub reason: String,
    /// Why a face with some mask found was left alone.
    pub skipped: Option<String>,
    /// Photo pixels the paste changed.
    pub changed_pixels: usize,
}

impl FaceOutcome {
    /// The face's hole at the photo's resolution over the part of the photo its aligned crop
    /// covers (all a mask for this face can touch): `(x, y, mask)` with `mask` placed at
    /// `(x, y)`; `None` when the crop lies outside the photo.
    pub fn mask_in_photo(&self, width: u32, height: u32) -> Option<(u32, u32, GrayImage)> {
        let (x0, y0, x1, y1) = self.alignment.bounds(width, height)?;
        let mut aligned = self.alignment;
        aligned.origin = [aligned.origin[0] - x0 as f64, aligned.origin[1] - y0 as f64];
        let mut region = RgbImage::new(x1 - x0, y1 - y0);
        let white = RgbImage::from_pixel(CROP_SIZE, CROP_SIZE, image::Rgb([255; 3]));
        aligned.paste(&mut region, &white, &self.mask);
        let gray = image::DynamicImage::ImageRgb8(region).to_luma8();
        Some((x0, y0, binarize(&gray, 127)))
    }
}

/// Milliseconds per step of [`Unmasker::unmask`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timings {
    pub detect: f64,
    pub landmarks: f64,
    pub segment: f64,
    pub inpaint: f64,
    pub paste: f64,
}

/// The result of [`Unmasker::unmask`].
pub struct Unmasked {
    pub image: RgbImage,
    pub faces: Vec<FaceOutcome>,
    /// The holes that were filled (grown, of the faces unmasked) at the photo's size, 255
    /// inside.
    pub filled: GrayImage,
    pub timings: Timings,
}

impl Unmasked {
    pub fn faces_unmasked(&self) -> usize {
        self.faces.iter().filter(|f| f.unmasked).count()
    }
}

/// Detector, landmarks, segmenter and GAN, loaded once for many photos.
pub struct Unmasker<B: KernelBackend> {
    pub faces: FaceFinder<B>,
    pub segmenter: Segmenter<B>,
    pub inpainter: Inpainter<B>,
    pub settings: UnmaskSettings,
}

impl<B: KernelBackend> Unmasker<B> {
    /// Loads the face-api nets from `store` and the two trained models (a `train-seg` and a
    /// `train-inpaint` folder, or their `best/`).
    pub fn load(
        store: &WeightStore,
        detector: Detector,
        segmenter: &Path,
        gan: &Path,
        settings: UnmaskSettings,
        device: &B::Device,
    ) -> Result<Self> {
        settings.validate()?;
        Ok(Self {
            faces: FaceFinder::load(store, detector, device)?,
            segmenter: Segmenter::load(segmenter, device)?,
            inpainter: Inpainter::load(gan, device)?,
            settings,
        })
    }

    /// Unmasks every masked face of `photo`.
    pub fn unmask(&self, photo: &RgbImage) -> Result<Unmasked> {
        self.unmask_with(photo, &Overrides::default(), &self.settings, &mut |_| {})
    }

    /// [`Unmasker::unmask`] with the user's masks and choices, other settings, and a report
    /// of each step as it starts.
    pub fn unmask_with(
        &self,
        photo: &RgbImage,
        overrides: &Overrides,
        settings: &UnmaskSettings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Unmasked> {
        settings
            .validate()
            .map_err(|e| InvalidOverrides(e.to_string()))?;
        overrides.check(photo, None)?;
        let mut timings = Timings::default();
        let mut report =
            |done: usize, total: usize, step: String| progress(Progress { done, total, step });
        report(0, 2, "finding faces".into());
        let t = Instant::now();
        let boxes =
            self.faces
                .detect_tiled(photo, settings.min_face_score, settings.detect_tiles)?;
        timings.detect = ms(t);
        overrides.check(photo, Some(boxes.len()))?;
        let total = 2 + boxes.len();
        report(
            1,
            total,
            format!("placing the landmarks of {} face(s)", boxes.len()),
        );
        let t = Instant::now();
        let points = if settings.upright_landmarks {
            self.faces.landmarks.landmarks_upright(photo, &boxes)?
        } else {
            self.faces.landmarks.landmarks(photo, &boxes)?
        };
        timings.landmarks = ms(t);
        let mut out = Pasted {
            image: photo.clone(),
            filled: RgbImage::new(photo.width(), photo.height()),
        };
        let mut faces = Vec::new();
        for (index, (face, landmarks)) in boxes.into_iter().zip(points).enumerate() {
            report(
                2 + index,
                total,
                format!(
                    "face {} of {}: segmenting and inpainting",
                    index + 1,
                    total - 2
                ),
            );
            let job = FaceJob {
                index,
                face,
                landmarks,
                overrides,
                settings,
            };
            faces.push(self.unmask_face(photo, &mut out, job, &mut timings)?);
        }
        report(total, total, "done".into());
        Ok(Unmasked {
            image: out.image,
            faces,
            // The paste blends at the crop's edges; the holes are reported binary.
            filled: binarize(&image::DynamicImage::ImageRgb8(out.filled).to_luma8(), 127),
            timings,
        })
    }

    /// The face's hole in its crop, the confident part of it, and where it came from.
    fn hole_of(
        &self,
        crop: &RgbImage,
        align: &Alignment,
        job: &FaceJob,
    ) -> (GrayImage, GrayImage, MaskSource) {
        if let Some(user) = job.overrides.mask_for(job.index) {
            let mask = crop_mask(align, user);
            return (mask.clone(), mask, MaskSource::User);
        }
        let crops = std::slice::from_ref(crop);
        let prob = if job.settings.mirror {
            self.segmenter.probabilities_mirrored(crops)
        } else {
            self.segmenter.probabilities_at_size(crops)
        }
        .remove(0);
        let hole_probability = job
            .settings
            .hole_probability
            .unwrap_or(self.segmenter.info().threshold);
        let mut mask = binarize(&prob, self.segmenter.cut(Some(hole_probability)));
        if job.settings.grow_probability < hole_probability {
            let unsure = binarize(
                &prob,
                self.segmenter.cut(Some(job.settings.grow_probability)),
            );
            mask = hole_shape::grow_into_unsure(&mask, &unsure);
        }
        // Whether the face wears a mask is judged on the confident part alone: skin the
        // segmenter is unsure about must not turn a bare face into a masked one.
        let mut sure = binarize(
            &prob,
            self.segmenter.cut(Some(job.settings.sure_probability)),
        );
        let face = (job.settings.face_margin < 1.0).then(|| {
            let margin = (job.settings.face_margin * CROP_SIZE as f64)
                .round()
                .min(255.0) as u8;
            lower_face(align, &job.landmarks, margin)
        });
        if let Some(face) = &face {
            keep_inside(&mut mask, face);
            keep_inside(&mut sure, face);
        }
        if job.settings.convex_hole {
            mask = convex_hole(&mask, align, &job.landmarks);
            // The hull may reach past the lower face again.
            if let Some(face) = &face {
                keep_inside(&mut mask, face);
            }
        }
        (mask, sure, MaskSource::Segmenter)
    }

    /// The GAN's fill of `mask` in `crop` as the photo path pastes it: with the grain of the
    /// ring around the hole when `settings.grain`. `landmarks` are the face's in the photo,
    /// `align` its crop (a GAN with the landmark guide draws along them, the lower face fitted
    /// to the eyes and brows when `settings.guide_from_upper_face`).
    pub fn fill(
        &self,
        crop: &RgbImage,
        mask: &GrayImage,
        (align, landmarks): (&Alignment, &Landmarks68),
        settings: &UnmaskSettings,
    ) -> Result<(RgbImage, InpaintReport)> {
        let guide = if settings.guide_from_upper_face {
            lower_face_from_upper(landmarks)
        } else {
            *landmarks
        };
        let points = crop_points(align, &guide);
        let (mut fill, report) = self.inpainter.inpaint(crop, mask, Some(&points))?;
        if settings.grain {
            match_grain(&mut fill, crop, &report.filled_hole, grain_seed(crop));
        }
        Ok((fill, report))
    }

    fn unmask_face(
        &self,
        photo: &RgbImage,
        out: &mut Pasted,
        job: FaceJob,
        timings: &mut Timings,
    ) -> Result<FaceOutcome> {
        let mut align = Alignment::ffhq(&job.landmarks, CROP_SIZE);
        if job.settings.crop_zoom > 1.0 {
            align = align.zoomed(job.settings.crop_zoom);
        }
        // Cropped from the photo as it was: a face pasted before must not leak into this one.
        let crop = align.crop(photo);
        let t = Instant::now();
        let (mask, sure, mask_source) = self.hole_of(&crop, &align, &job);
        timings.segment += ms(t);
        let mask_area = mask.pixels().filter(|p| p.0[0] > 127).count() as f64
            / (mask.width() * mask.height()) as f64;
        let coverage = coverage_of(&sure, &mouth_and_chin(&align, &job.landmarks));
        let choice = job.overrides.choice(job.index);
        let decision = decide(choice, mask_source, mask_area, coverage, job.settings);
        let mut outcome = FaceOutcome {
            face: job.face,
            landmarks: job.landmarks,
            alignment: align,
            mask,
            mask_source,
            choice,
            mask_area,
            mouth_chin_coverage: coverage,
            unmasked: false,
            reason: String::new(),
            skipped: None,
            changed_pixels: 0,
        };
        match decision {
            Err(why) => {
                if mask_area > 0.0 || choice == FaceChoice::Off {
                    outcome.skipped = Some(why.clone());
                }
                outcome.reason = why;
                return Ok(outcome);
            }
            Ok(why) => outcome.reason = why,
        }
        let t = Instant::now();
        let (fill, report) =
            self.fill(&crop, &outcome.mask, (&align, &job.landmarks), job.settings)?;
        timings.inpaint += ms(t);
        let t = Instant::now();
        let weight = feathered(&report.filled_hole, 4, 2.0);
        outcome.changed_pixels = align.paste(&mut out.image, &fill, &weight);
        let white = RgbImage::from_pixel(CROP_SIZE, CROP_SIZE, image::Rgb([255; 3]));
        align.paste(&mut out.filled, &white, &report.filled_hole);
        timings.paste += ms(t);
        outcome.unmasked = true;
        Ok(outcome)
    }
}

/// One face of [`Unmasker::unmask_with`] and what the user said of it.
struct FaceJob<'a> {
    index: usize,
    face: FaceBox,
    landmarks: Landmarks68,
    overrides: &'a Overrides,
    settings: &'a UnmaskSettings,
}

/// Whether to fill a face: `Ok(why)` to fill, `Err(why)` to leave it alone.
fn decide(
    choice: FaceChoice,
    source: MaskSource,
    mask_area: f64,
    coverage: f64,
    settings: &UnmaskSettings,
) -> Result<String, String> {
    let covers = format!(
        "the mask covers {:.0}% of the mouth and chin",
        100.0 * coverage
    );
    match (choice, source) {
        (FaceChoice::Off, _) => Err("turned off by the user".into()),
        _ if mask_area == 0.0 => Err(match source {
            MaskSource::User => "the supplied mask is empty on this face".into(),
            MaskSource::Segmenter => "no mask found".into(),
        }),
        (_, MaskSource::User) => Ok("filled with the mask the user supplied".into()),
        (FaceChoice::On, _) => Ok(format!("turned on by the user ({covers})")),
        _ if coverage < settings.min_coverage => Err(format!(
            "the confidently segmented region covers {:.0}% of the mouth and chin (min_coverage {:.0}%): not a face mask",
            100.0 * coverage,
            100.0 * settings.min_coverage
        )),
        _ => Ok(covers),
    }
}

/// A face's landmarks in the pixels of its aligned crop.
pub fn crop_points(align: &Alignment, landmarks: &Landmarks68) -> Vec<[f32; 2]> {
    landmarks
        .iter()
        .map(|p| {
            let [u, v] = align.to_crop(p[0], p[1]);
            [u as f32, v as f32]
        })
        .collect()
}

/// A mask at the photo's size cut to a face's aligned crop, binary.
pub fn crop_mask(align: &Alignment, mask: &GrayImage) -> GrayImage {
    binarize(&align.crop_luma(mask), 127)
}

/// The photo being unmasked and the holes filled so far (white), both at the photo's size.
struct Pasted {
    image: RgbImage,
    filled: RgbImage,
}

/// The seed of a face's grain, from its crop's pixels (FNV-1a): the same face gets the same
/// grain whichever other faces the detector finds, and in whatever order.
fn grain_seed(crop: &RgbImage) -> u64 {
    crop.as_raw()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// The convex hull of the pieces of `mask` that reach the face's mouth and chin.
fn convex_hole(mask: &GrayImage, align: &Alignment, landmarks: &Landmarks68) -> GrayImage {
    let reach = mouth_and_chin(align, landmarks);
    hole_shape::convex_hull_fill(&hole_shape::keep_touching(mask, &reach))
}

/// Clears the pixels of `mask` outside `region` (both binary, the same size).
pub fn keep_inside(mask: &mut GrayImage, region: &GrayImage) {
    for (m, r) in mask.pixels_mut().zip(region.pixels()) {
        if r.0[0] <= 127 {
            m.0[0] = 0;
        }
    }
}

/// The share of `region` that `mask` covers (0 for an empty region).
pub fn coverage_of(mask: &GrayImage, region: &GrayImage) -> f64 {
    let (mut inside, mut covered) = (0usize, 0usize);
    for (m, r) in mask.pixels().zip(region.pixels()) {
        if r.0[0] > 127 {
            inside += 1;
            covered += (m.0[0] > 127) as usize;
        }
    }
    if inside == 0 {
        0.0
    } else {
        covered as f64 / inside as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn the_grain_seed_follows_the_crop_alone() {
        let crop = RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut other = crop.clone();
        other.put_pixel(3, 5, image::Rgb([0, 0, 0]));
        assert_eq!(grain_seed(&crop), grain_seed(&crop.clone()));
        assert_ne!(grain_seed(&crop), grain_seed(&other));
    }

    #[test]
    fn coverage_counts_the_region_only() {
        // Region: the left half; mask: the top-left quarter plus the whole right half.
        let region = GrayImage::from_fn(8, 8, |x, _| Luma([if x < 4 { 255 } else { 0 }]));
        let mask = GrayImage::from_fn(8, 8, |x, y| {
            Luma([if (x < 4 && y < 4) || x >= 4 { 255 } else { 0 }])
        });
        assert_eq!(coverage_of(&mask, &region), 0.5);
        assert_eq!(coverage_of(&region, &region), 1.0);
        assert_eq!(coverage_of(&mask, &GrayImage::new(8, 8)), 0.0);
    }

    #[test]
    fn keep_inside_clears_the_mask_outside_the_region() {
        let region = GrayImage::from_fn(8, 8, |x, _| Luma([if x < 4 { 255 } else { 0 }]));
        let mut mask = GrayImage::from_fn(8, 8, |_, y| Luma([if y < 2 { 0 } else { 255 }]));
        keep_inside(&mut mask, &region);
        for (x, y, p) in mask.enumerate_pixels() {
            assert_eq!(p.0[0] == 255, x < 4 && y >= 2, "({x}, {y})");
        }
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        assert!(UnmaskSettings::default().validate().is_ok());
        for bad in [
            UnmaskSettings {
                min_coverage: 1.5,
                ..Default::default()
            },
            UnmaskSettings {
                sure_probability: 0.995,
                ..Default::default()
            },
            UnmaskSettings {
                min_face_score: 0.0,
                ..Default::default()
            },
            UnmaskSettings {
                face_margin: -0.1,
                ..Default::default()
            },
            UnmaskSettings {
                face_margin: 1.5,
                ..Default::default()
            },
            UnmaskSettings {
                detect_tiles: 0,
                ..Default::default()
            },
            UnmaskSettings {
                detect_tiles: MAX_DETECT_TILES + 1,
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err());
        }
    }
}
