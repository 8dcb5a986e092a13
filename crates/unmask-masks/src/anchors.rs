//! The six MaskTheFace anchor points and the face tilt that picks a template variant.

use serde::{Deserialize, Serialize};

use crate::error::MaskError;
use crate::linalg::least_squares;
use crate::{Point, N_LANDMARKS};

/// Beyond this tilt (degrees) a turned template variant is used, as in MaskTheFace.
pub const TILT_THRESHOLD_DEGREES: f32 = 13.0;

/// Landmarks are rejected beyond this magnitude: nothing sane is that far out, and it keeps
/// every later product of coordinates comfortably finite in `f32`.
const MAX_COORD: f32 = 1.0e6;
/// Faces whose eye centres are closer than this (pixels) are too small to place a mask on.
const MIN_EYE_DISTANCE: f32 = 1.0;

/// The bottom lip as MaskTheFace's landmark source groups it (outer 54-59 and 48, inner 60,
/// 67-64).
const BOTTOM_LIP: [usize; 12] = [54, 55, 56, 57, 58, 59, 48, 60, 67, 66, 65, 64];
const CHIN: usize = 8;
const NOSE_TOP: usize = 27;
const NOSE_TIP: usize = 30;

/// Where a mask's six anchor points go on the face.
///
/// `a` and `c` are on the jaw at nose-tip height (image left and right), `b` on the nose
/// bridge, `d` and `f` on the jaw at the height of the lowest bottom-lip point, `e` on the chin.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnchorPoints {
    pub a: Point,
    pub b: Point,
    pub c: Point,
    pub d: Point,
    pub e: Point,
    pub f: Point,
}

impl AnchorPoints {
    /// The points in the order `a, b, c, d, e, f`.
    pub fn to_array(&self) -> [Point; 6] {
        [self.a, self.b, self.c, self.d, self.e, self.f]
    }

    /// The inverse of [`AnchorPoints::to_array`].
    pub fn from_array(p: [Point; 6]) -> Self {
        Self {
            a: p[0],
            b: p[1],
            c: p[2],
            d: p[3],
            e: p[4],
            f: p[5],
        }
    }

    /// Signed area of the hexagon `a b c f e d`; positive for an upright, unmirrored face in
    /// y-down image coordinates.
    pub fn hexagon_area(&self) -> f32 {
        let ring = [self.a, self.b, self.c, self.f, self.e, self.d];
        let mut twice = 0.0;
        for i in 0..6 {
            let (p, q) = (ring[i], ring[(i + 1) % 6]);
            twice += p[0] * q[1] - q[0] * p[1];
        }
        twice / 2.0
    }
}

/// Which drawing of a template is used: the face seen from the front, or turned so that its
/// left or right half (in the image) is foreshortened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateVariant {
    Front,
    Left,
    Right,
}

impl TemplateVariant {
    pub const ALL: [TemplateVariant; 3] = [Self::Front, Self::Left, Self::Right];

    /// MaskTheFace's rule: tilt above the threshold turns left, below minus it turns right.
    pub fn from_tilt(tilt_degrees: f32) -> Self {
        if tilt_degrees > TILT_THRESHOLD_DEGREES {
            Self::Left
        } else if tilt_degrees < -TILT_THRESHOLD_DEGREES {
            Self::Right
        } else {
            Self::Front
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Front => "front",
            Self::Left => "left",
            Self::Right => "right",
        }
    }
}

/// Signed angle (degrees) from the line "landmark 27 to the bottom-lip mean" to the nose-bridge
/// line 27 -> 30, measured like `atan2` in image coordinates. It is positive when the nose tip
/// points to the image left (the face turned towards the image left) and stays near 0 when the
/// whole face is rotated in the image plane. Degenerate input gives 0, never NaN from a zero
/// length; non-finite input gives NaN.
pub fn face_tilt_degrees(lm: &[Point; N_LANDMARKS]) -> f32 {
    let top = lm[NOSE_TOP];
    let nose = sub(lm[NOSE_TIP], top);
    let lip = sub(mean(BOTTOM_LIP.iter().map(|&i| lm[i])), top);
    let (cr, dt) = (cross(lip, nose), dot(lip, nose));
    if cr == 0.0 && dt == 0.0 {
        return 0.0;
    }
    cr.atan2(dt).to_degrees()
}

/// Rejects non-finite or absurdly large landmarks.
pub(crate) fn validate_landmarks(lm: &[Point; N_LANDMARKS]) -> Result<(), MaskError> {
    for (index, p) in lm.iter().enumerate() {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return Err(MaskError::NonFiniteLandmark { index });
        }
        if p[0].abs() > MAX_COORD || p[1].abs() > MAX_COORD {
            return Err(MaskError::LandmarkOutOfRange {
                index,
                x: p[0],
                y: p[1],
            });
        }
    }
    Ok(())
}

/// The six anchor points of MaskTheFace's placement.
///
/// `a`, `c`: where the line through the nose tip (30), parallel to the eye line, meets the jaw
/// polyline (0-16), outermost crossing on each side; when it misses a side, the crossing with
/// an ellipse fitted to the jaw in the face's own frame; failing that, landmarks 0 and 16.
/// `b`: midpoint of the nose bridge (27, 30). `e`: the chin (8). `d`, `f`: like `a`, `c` for
/// the line through the lowest bottom-lip point (lowest along the face's down direction, which
/// is image y for an upright face); the last fallback is the midpoints of jaw landmarks 4-5 and
/// 11-12, which sit at lip height on an average face.
pub fn anchor_points(lm: &[Point; N_LANDMARKS]) -> Result<AnchorPoints, MaskError> {
    validate_landmarks(lm)?;
    let left_eye = mean(lm[36..42].iter().copied());
    let right_eye = mean(lm[42..48].iter().copied());
    let eye = sub(right_eye, left_eye);
    let eye_distance = norm(eye);
    if !(eye_distance >= MIN_EYE_DISTANCE) {
        return Err(MaskError::DegenerateLandmarks(format!(
            "eye centres are {eye_distance} px apart"
        )));
    }
    let u = [eye[0] / eye_distance, eye[1] / eye_distance];
    let down = [-u[1], u[0]];
    let eye_mid = mid(left_eye, right_eye);
    if dot(sub(lm[CHIN], eye_mid), down) < 0.3 * eye_distance {
        return Err(MaskError::DegenerateLandmarks(
            "the chin is not below the eyes (mirrored or collapsed landmarks)".into(),
        ));
    }
    if norm(sub(lm[NOSE_TIP], lm[NOSE_TOP])) < 0.05 * eye_distance {
        return Err(MaskError::DegenerateLandmarks(
            "the nose bridge has no length".into(),
        ));
    }

    let frame = Frame {
        origin: lm[NOSE_TIP],
        u,
        down,
        scale: eye_distance,
    };
    let jaw: Vec<Point> = lm[0..17].to_vec();
    let ellipse = JawEllipse::fit(&jaw, &frame);

    let (a, c) =
        side_points(&jaw, lm[NOSE_TIP], &frame, ellipse.as_ref()).unwrap_or((lm[0], lm[16]));
    let lowest_lip = BOTTOM_LIP
        .iter()
        .map(|&i| lm[i])
        .fold(lm[BOTTOM_LIP[0]], |best, p| {
            if dot(p, down) > dot(best, down) {
                p
            } else {
                best
            }
        });
    let (d, f) = side_points(&jaw, lowest_lip, &frame, ellipse.as_ref())
        .unwrap_or((mid(lm[4], lm[5]), mid(lm[11], lm[12])));

    let anchors = AnchorPoints {
        a,
        b: mid(lm[NOSE_TOP], lm[NOSE_TIP]),
        c,
        d,
        e: lm[CHIN],
        f,
    };
    let area = anchors.hexagon_area();
    if !(area >= 0.2 * eye_distance * eye_distance) {
        return Err(MaskError::DegenerateLandmarks(format!(
            "the anchor hexagon has area {area} for eyes {eye_distance} px apart"
        )));
    }
    Ok(anchors)
}

/// The face's own frame: `u` along the eye line, `down` perpendicular to it, unit `scale`.
struct Frame {
    origin: Point,
    u: Point,
    down: Point,
    scale: f32,
}

impl Frame {
    fn to_local(&self, p: Point) -> [f64; 2] {
        let w = sub(p, self.origin);
        [
            (dot(w, self.u) / self.scale) as f64,
            (dot(w, self.down) / self.scale) as f64,
        ]
    }

    fn to_image(&self, s: f64, t: f64) -> Point {
        let (s, t) = (s as f32 * self.scale, t as f32 * self.scale);
        [
            self.origin[0] + s * self.u[0] + t * self.down[0],
            self.origin[1] + s * self.u[1] + t * self.down[1],
        ]
    }
}

/// Crossings of the line through `p` along the eye direction with the jaw: the polyline first,
/// then the fitted ellipse.
fn side_points(
    jaw: &[Point],
    p: Point,
    frame: &Frame,
    ellipse: Option<&JawEllipse>,
) -> Option<(Point, Point)> {
    polyline_crossings(jaw, p, frame.u).or_else(|| {
        let t0 = frame.to_local(p)[1];
        let (s1, s2) = ellipse?.crossings(t0)?;
        Some((frame.to_image(s1, t0), frame.to_image(s2, t0)))
    })
}

/// Outermost crossing on each side of `p` of the line `p + s u` with the polyline.
fn polyline_crossings(poly: &[Point], p: Point, u: Point) -> Option<(Point, Point)> {
    let mut left: Option<f32> = None;
    let mut right: Option<f32> = None;
    for seg in poly.windows(2) {
        let d = sub(seg[1], seg[0]);
        let den = cross(u, d);
        if den.abs() <= 1e-9 * norm(d) || den == 0.0 {
            continue;
        }
        let w = sub(seg[0], p);
        let t = cross(w, u) / den;
        if !(-1e-6..=1.0 + 1e-6).contains(&t) {
            continue;
        }
        let s = cross(w, d) / den;
        if s < 0.0 {
            left = Some(left.map_or(s, |l| l.min(s)));
        } else if s > 0.0 {
            right = Some(right.map_or(s, |r| r.max(s)));
        }
    }
    let at = |s: f32| [p[0] + s * u[0], p[1] + s * u[1]];
    Some((at(left?), at(right?)))
}

/// `A s^2 + B t^2 + C s + D t = 1` in the face frame: an ellipse with axes along the eye line,
/// which the jaw roughly is. Its origin (the nose tip) lies inside the jaw, so the constant
/// term can be fixed to 1.
struct JawEllipse {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
}

impl JawEllipse {
    fn fit(jaw: &[Point], frame: &Frame) -> Option<Self> {
        let mut m = Vec::with_capacity(jaw.len() * 4);
        for p in jaw {
            let [s, t] = frame.to_local(*p);
            m.extend_from_slice(&[s * s, t * t, s, t]);
        }
        let y = vec![1.0; jaw.len()];
        let x = least_squares(&m, &y, 4, 1e-12)?;
        (x[0] > 0.0 && x[1] > 0.0).then(|| Self {
            a: x[0],
            b: x[1],
            c: x[2],
            d: x[3],
        })
    }

    fn crossings(&self, t: f64) -> Option<(f64, f64)> {
        let k = self.b * t * t + self.d * t - 1.0;
        let disc = self.c * self.c - 4.0 * self.a * k;
        if !(disc > 0.0) {
            return None;
        }
        let r = disc.sqrt();
        let (s1, s2) = (
            (-self.c - r) / (2.0 * self.a),
            (-self.c + r) / (2.0 * self.a),
        );
        (s1.is_finite() && s2.is_finite()).then_some((s1, s2))
    }
}

fn sub(p: Point, q: Point) -> Point {
    [p[0] - q[0], p[1] - q[1]]
}

fn dot(p: Point, q: Point) -> f32 {
    p[0] * q[0] + p[1] * q[1]
}

fn cross(p: Point, q: Point) -> f32 {
    p[0] * q[1] - p[1] * q[0]
}

fn norm(p: Point) -> f32 {
    dot(p, p).sqrt()
}

fn mid(p: Point, q: Point) -> Point {
    [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0]
}

fn mean(points: impl Iterator<Item = Point>) -> Point {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for p in points {
        sx += p[0];
        sy += p[1];
        n += 1.0;
    }
    [sx / n, sy / n]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mean_face;

    #[test]
    fn ellipse_fallback_recovers_a_circle() {
        // Jaw on the lower half of a circle of radius 2 around (0, 0) in a frame at (0, 0).
        let jaw: Vec<Point> = (0..17)
            .map(|i| {
                let th = std::f32::consts::PI * i as f32 / 16.0;
                [-2.0 * th.cos(), 2.0 * th.sin()]
            })
            .collect();
        let frame = Frame {
            origin: [0.0, 0.5],
            u: [1.0, 0.0],
            down: [0.0, 1.0],
            scale: 1.0,
        };
        let e = JawEllipse::fit(&jaw, &frame).unwrap();
        // A line above the jaw's top end misses the polyline but crosses the ellipse.
        let (s1, s2) = e.crossings(-1.5).unwrap();
        let expect = (4.0f64 - 1.0).sqrt();
        assert!(
            (s1 + expect).abs() < 1e-3 && (s2 - expect).abs() < 1e-3,
            "{s1} {s2}"
        );
        let p = [0.0, -1.0];
        assert!(polyline_crossings(&jaw, p, frame.u).is_none());
        let (a, c) = side_points(&jaw, p, &frame, Some(&e)).unwrap();
        assert!((a[0] + expect as f32).abs() < 1e-3 && (a[1] + 1.0).abs() < 1e-4);
        assert!((c[0] - expect as f32).abs() < 1e-3);
    }

    #[test]
    fn mean_face_is_front_facing() {
        let lm = mean_face([128.0, 128.0], 160.0);
        let tilt = face_tilt_degrees(&lm);
        assert!(tilt.abs() < 3.0, "{tilt}");
        assert!(anchor_points(&lm).unwrap().hexagon_area() > 0.0);
    }
}
