//! Face geometry: the 68 landmarks and the outlines the renderer needs (forehead, hairline,
//! ears, neck), built in face space and projected into the image with the head pose.
//!
//! Face space: x to the viewer's right, y down, origin between the eyes and the mouth; the
//! cheekbone half-width is `face_width` (~0.85). Each point also has a depth so that yaw moves
//! the nose more than the jaw silhouette, as on a real head.

use super::params::FaceParams;
use unmask_core::{Landmarks, Point, N_LANDMARKS};

/// A face-space point with depth.
#[derive(Clone, Copy, Debug)]
pub struct P3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

fn p3(x: f32, y: f32, z: f32) -> P3 {
    P3 { x, y, z }
}

/// The rigid transform from face space to image pixels.
#[derive(Clone, Copy, Debug)]
pub struct Pose {
    pub center: Point,
    pub scale: f32,
    pub yaw_sin: f32,
    pub yaw_cos: f32,
    pub roll_sin: f32,
    pub roll_cos: f32,
}

impl Pose {
    pub fn project(&self, p: P3) -> Point {
        let x = p.x * self.yaw_cos + p.z * self.yaw_sin;
        let (rx, ry) = (
            x * self.roll_cos - p.y * self.roll_sin,
            x * self.roll_sin + p.y * self.roll_cos,
        );
        [
            self.center[0] + self.scale * rx,
            self.center[1] + self.scale * ry,
        ]
    }

    /// Image pixel back to (yaw-free) face space, for per-pixel shading and textures.
    pub fn unproject(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (
            (x - self.center[0]) / self.scale,
            (y - self.center[1]) / self.scale,
        );
        (
            dx * self.roll_cos + dy * self.roll_sin,
            -dx * self.roll_sin + dy * self.roll_cos,
        )
    }

    pub fn project_all(&self, pts: &[P3]) -> Vec<Point> {
        pts.iter().map(|&p| self.project(p)).collect()
    }
}

/// Depth of the head surface at face-space (x, y): an ellipsoid, flattening towards the edge.
fn head_depth(x: f32, fw: f32) -> f32 {
    0.7 * (1.0 - (x / (fw + 0.1)).powi(2)).max(0.0).sqrt()
}

/// The projected geometry of one face.
pub struct FaceShape {
    pub pose: Pose,
    pub landmarks: Landmarks,
    /// Face outline: the jaw (landmarks 0..16) closed over the forehead.
    pub face_outline: Vec<Point>,
    /// Head outline including the skull, for hair.
    pub skull: Vec<P3>,
    pub ears: [(Point, [f32; 2]); 2],
    pub neck: Vec<Point>,
    pub shoulders: Vec<Point>,
}

impl FaceShape {
    pub fn new(p: &FaceParams, size: u32) -> Self {
        let s = size as f32;
        let (ys, yc) = p.yaw.to_radians().sin_cos();
        let (rs, rc) = p.roll.to_radians().sin_cos();
        let pose = Pose {
            center: [s * (0.5 + p.offset[0]), s * (0.47 + p.offset[1])],
            scale: s * p.scale,
            yaw_sin: ys,
            yaw_cos: yc,
            roll_sin: rs,
            roll_cos: rc,
        };
        let pts = landmarks_3d(p);
        let landmarks = {
            let mut out = [[0.0; 2]; N_LANDMARKS];
            for (o, q) in out.iter_mut().zip(&pts) {
                *o = pose.project(*q);
            }
            Landmarks(out)
        };
        let fw = p.face_width;
        let jaw_top = p.eye_y + 0.06;
        let top = -p.forehead_height;
        // Forehead from landmark 16 (right) over the top back to landmark 0 (left).
        let mut outline: Vec<P3> = pts[0..17].to_vec();
        let n = 14;
        for i in 1..n {
            let a = i as f32 / n as f32 * std::f32::consts::PI;
            let x = fw * 1.01 * a.cos();
            let y = jaw_top + (top - jaw_top) * a.sin().max(0.0).powf(0.8);
            outline.push(p3(x, y, head_depth(x, fw)));
        }
        let face_outline = pose.project_all(&outline);
        let skull: Vec<P3> = (0..=24)
            .map(|i| {
                let a = i as f32 / 24.0 * std::f32::consts::PI;
                let x = (fw + 0.07) * a.cos();
                let y = jaw_top + 0.05 + (top - 0.12 - jaw_top - 0.05) * a.sin().max(0.0).powf(0.7);
                p3(x, y, head_depth(x, fw) * 0.5)
            })
            .collect();
        let ear_y = p.eye_y + 0.17;
        let ears = [-1.0f32, 1.0].map(|side| {
            let c = pose.project(p3(side * (fw - 0.01), ear_y, 0.0));
            (
                [c[0], c[1]],
                [0.10 * pose.scale * yc.max(0.3), 0.19 * pose.scale],
            )
        });
        let neck_w = (fw * p.jaw_width * 0.62).max(0.42);
        let neck = pose.project_all(&[
            p3(-neck_w, 0.3, 0.0),
            p3(neck_w, 0.3, 0.0),
            p3(neck_w * 1.05, 2.2, 0.0),
            p3(-neck_w * 1.05, 2.2, 0.0),
        ]);
        let sh_y = p.chin_y + 0.42;
        let shoulders = pose.project_all(&[
            p3(-2.5, 2.5, 0.0),
            p3(-2.2, sh_y + 0.35, 0.0),
            p3(-1.2, sh_y + 0.05, 0.0),
            p3(-neck_w, sh_y - 0.05, 0.0),
            p3(0.0, sh_y + 0.12, 0.0),
            p3(neck_w, sh_y - 0.05, 0.0),
            p3(1.2, sh_y + 0.05, 0.0),
            p3(2.2, sh_y + 0.35, 0.0),
            p3(2.5, 2.5, 0.0),
        ]);
        Self {
            pose,
            landmarks,
            face_outline,
            skull,
            ears,
            neck,
            shoulders,
        }
    }
}

/// The 68 iBUG landmarks in face space, with depth.
pub fn landmarks_3d(p: &FaceParams) -> [P3; N_LANDMARKS] {
    let mut lm = [p3(0.0, 0.0, 0.0); N_LANDMARKS];
    let fw = p.face_width;
    let jaw_top = p.eye_y + 0.06;
    // Jaw 0..16: from the left temple down round the chin and up to the right.
    for (i, slot) in lm.iter_mut().enumerate().take(17) {
        let phi = std::f32::consts::PI * i as f32 / 16.0;
        let (s, c) = phi.sin_cos();
        // sin(pi) rounds to a tiny negative number, and powf of a negative is NaN.
        let s = s.max(0.0);
        let narrowing = 1.0 - (1.0 - p.jaw_width) * s.powi(2);
        let chin_flat = 1.0 + p.chin_width * s.powi(12);
        let x = -c * fw * narrowing * chin_flat;
        let y = jaw_top + (p.chin_y - jaw_top) * s.powf(p.jaw_squareness);
        *slot = p3(x, y, head_depth(x, fw) * s);
    }
    // Brows 17..21 (left, outer to inner) and 22..26 (right, inner to outer).
    for k in 0..5 {
        let u = k as f32 / 4.0;
        let x = -p.eye_spacing - p.eye_width * 1.3 + u * (p.eye_width * 2.3);
        let y =
            p.eye_y - p.brow_gap - p.brow_arch * (std::f32::consts::PI * (0.25 + 0.6 * u)).sin()
                + 0.02 * u;
        lm[17 + k] = p3(x, y, head_depth(x, fw) + 0.05);
        lm[26 - k] = p3(-x, y, head_depth(x, fw) + 0.05);
    }
    // Nose bridge 27..30 down to the tip, and the base 31..35.
    let bridge_top = p.eye_y - 0.03;
    for k in 0..4 {
        let u = k as f32 / 3.0;
        lm[27 + k] = p3(
            0.0,
            bridge_top + (p.nose_y - bridge_top) * u,
            0.75 + 0.22 * u,
        );
    }
    let base = p.nose_y + 0.07;
    let nw = p.nose_width;
    lm[31] = p3(-nw, base - 0.025, 0.78);
    lm[32] = p3(-nw * 0.5, base + 0.005, 0.85);
    lm[33] = p3(0.0, base + 0.015, 0.9);
    lm[34] = p3(nw * 0.5, base + 0.005, 0.85);
    lm[35] = p3(nw, base - 0.025, 0.78);
    // Eyes: 36..41 on the left (outer corner first), 42..47 on the right (inner corner first).
    let (ew, up, low) = (p.eye_width, 0.07 * p.eye_openness, 0.045 * p.eye_openness);
    for side in [-1.0f32, 1.0] {
        let cx = side * p.eye_spacing;
        let outer = p3(cx + side * ew, p.eye_y - p.eye_tilt, 0.6);
        let inner = p3(cx - side * ew, p.eye_y + p.eye_tilt * 0.5, 0.66);
        let up_outer = p3(cx + side * ew * 0.38, p.eye_y - up, 0.68);
        let up_inner = p3(cx - side * ew * 0.35, p.eye_y - up * 0.95, 0.7);
        let low_inner = p3(cx - side * ew * 0.35, p.eye_y + low, 0.68);
        let low_outer = p3(cx + side * ew * 0.38, p.eye_y + low * 1.05, 0.66);
        if side < 0.0 {
            lm[36..42].copy_from_slice(&[outer, up_outer, up_inner, inner, low_inner, low_outer]);
        } else {
            lm[42..48].copy_from_slice(&[inner, up_inner, up_outer, outer, low_outer, low_inner]);
        }
    }
    // Mouth: outer 48..59 (left corner, upper lip left to right, right corner, lower lip right
    // to left), inner 60..67 the same way. A smile lifts the corners along a parabola.
    let (mw, my, ul, ll, open) = (
        p.mouth_width,
        p.mouth_y,
        p.upper_lip,
        p.lower_lip,
        p.mouth_open,
    );
    let curve = |x: f32| -p.smile * 0.05 * (x / mw).powi(2);
    let at = |x: f32, y: f32| p3(x, y + curve(x), 0.78 - 0.3 * (x / mw).powi(2) * 0.5);
    lm[48] = at(-mw, my);
    lm[49] = at(-mw * 0.6, my - ul * 0.8);
    lm[50] = at(-mw * 0.25, my - ul * 1.05);
    lm[51] = at(0.0, my - ul * 0.82);
    lm[52] = at(mw * 0.25, my - ul * 1.05);
    lm[53] = at(mw * 0.6, my - ul * 0.8);
    lm[54] = at(mw, my);
    lm[55] = at(mw * 0.6, my + open + ll * 0.85);
    lm[56] = at(mw * 0.25, my + open + ll);
    lm[57] = at(0.0, my + open + ll * 1.02);
    lm[58] = at(-mw * 0.25, my + open + ll);
    lm[59] = at(-mw * 0.6, my + open + ll * 0.85);
    lm[60] = at(-mw * 0.88, my + open * 0.1);
    lm[61] = at(-mw * 0.4, my - 0.006);
    lm[62] = at(0.0, my - 0.004);
    lm[63] = at(mw * 0.4, my - 0.006);
    lm[64] = at(mw * 0.88, my + open * 0.1);
    lm[65] = at(mw * 0.4, my + open);
    lm[66] = at(0.0, my + open * 1.05);
    lm[67] = at(-mw * 0.4, my + open);
    lm
}
