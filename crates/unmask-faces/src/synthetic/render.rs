//! Paints a face from its parameters and projected shape, back to front: background, hair
//! behind the head, shoulders and neck, ears, skin with directional light, cheeks, nose, lips,
//! eyes, brows, facial hair, hair, glasses, then camera blur and sensor noise.

use super::params::{FaceParams, FacialHair, Glasses, HairStyle};
use super::shape::{FaceShape, Pose, P3};
use unmask_core::raster::{Canvas, Coverage};
use unmask_core::rng::mix64;
use unmask_core::Point;

fn mul(c: [f32; 3], f: f32) -> [f32; 3] {
    c.map(|v| v * f)
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Cheap deterministic value noise in [-1, 1] from integer lattice hashing.
fn hash_noise(key: u64, x: i32, y: i32) -> f32 {
    let h = mix64(key ^ ((x as u32 as u64) << 32 | y as u32 as u64));
    (h >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

fn smooth_noise(key: u64, x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (tx, ty) = (x - x0, y - y0);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let (ix, iy) = (x0 as i32, y0 as i32);
    let a = hash_noise(key, ix, iy);
    let b = hash_noise(key, ix + 1, iy);
    let c = hash_noise(key, ix, iy + 1);
    let d = hash_noise(key, ix + 1, iy + 1);
    let top = a + (b - a) * sx;
    let bottom = c + (d - c) * sx;
    top + (bottom - top) * sy
}

struct Painter<'a> {
    canvas: Canvas,
    p: &'a FaceParams,
    shape: &'a FaceShape,
    size: usize,
    key: u64,
}

pub fn render_face(
    p: &FaceParams,
    shape: &FaceShape,
    size: u32,
    noise_key: u64,
) -> image::RgbImage {
    let size = size as usize;
    let mut painter = Painter {
        canvas: Canvas::new(size, size, p.background[0]),
        p,
        shape,
        size,
        key: mix64(noise_key),
    };
    painter.background();
    painter.hair_behind();
    painter.body();
    painter.ears();
    painter.skin();
    painter.nose();
    painter.mouth();
    painter.eyes();
    painter.brows();
    painter.facial_hair();
    painter.hair_front();
    painter.glasses();
    painter.camera();
    painter.canvas.to_rgb8()
}

impl Painter<'_> {
    fn lm(&self, i: usize) -> Point {
        self.shape.landmarks.0[i]
    }

    fn lms(&self, idx: &[usize]) -> Vec<Point> {
        idx.iter().map(|&i| self.lm(i)).collect()
    }

    fn pose(&self) -> Pose {
        self.shape.pose
    }

    fn px(&self, face_units: f32) -> f32 {
        face_units * self.shape.pose.scale
    }

    fn poly(&self, pts: &[Point]) -> Coverage {
        Coverage::polygon(pts, self.size, self.size)
    }

    /// Light falling on a point of face space treated as an ellipsoid facing the camera.
    fn light(&self, u: f32, v: f32) -> f32 {
        let p = self.p;
        let nx = (u / (p.face_width + 0.15)).clamp(-1.0, 1.0) + p.yaw.to_radians().sin() * 0.5;
        let ny = ((v - 0.05) / 1.3).clamp(-1.0, 1.0);
        let nz = (1.0 - nx * nx - ny * ny).max(0.0).sqrt();
        let (ls, lc) = p.light_angle.sin_cos();
        let l = [lc * p.light_strength, ls * p.light_strength * 0.6, 1.0];
        let norm = (l[0] * l[0] + l[1] * l[1] + l[2] * l[2]).sqrt();
        let d = (nx * l[0] + ny * l[1] + nz * l[2]) / norm;
        0.62 + 0.45 * d.max(0.0)
    }

    fn background(&mut self) {
        let [a, b] = self.p.background;
        let s = self.size as f32;
        let key = self.key;
        self.canvas.fill_with(|x, y| {
            let t = (y / s).clamp(0.0, 1.0);
            let n = smooth_noise(key, x / s * 4.0, y / s * 4.0) * 0.06;
            mix(a, b, t).map(|v| v + n)
        });
    }

    fn hair_outline(&self, volume: f32) -> Vec<Point> {
        let pose = self.pose();
        let curly = self.p.hair_style == HairStyle::Curly;
        self.shape
            .skull
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let bump = if curly {
                    0.05 * ((i as f32 * 1.9).sin()).abs()
                } else {
                    0.0
                };
                let grow = 1.0 + volume + bump;
                pose.project(P3 {
                    x: q.x * grow,
                    y: q.y * grow - volume * 0.3,
                    z: q.z,
                })
            })
            .collect()
    }

    fn hair_paint(&self) -> HairPaint {
        HairPaint {
            color: self.p.hair_color,
            pose: self.pose(),
            key: self.key ^ 0x4a17,
        }
    }

    fn hair_behind(&mut self) {
        let p = self.p;
        if !matches!(p.hair_style, HairStyle::Long | HairStyle::Curly) {
            return;
        }
        let pose = self.pose();
        let fw = p.face_width;
        let drop = if p.hair_style == HairStyle::Long {
            1.9
        } else {
            0.9
        };
        let mut outline = self.hair_outline(0.12);
        outline.extend(pose.project_all(&[
            P3 {
                x: -(fw + 0.3),
                y: drop,
                z: 0.0,
            },
            P3 {
                x: fw + 0.3,
                y: drop,
                z: 0.0,
            },
        ]));
        let cov = self.poly(&outline);
        let hair = self.hair_paint();
        self.canvas
            .paint(&cov, 1.0, |x, y, _| mul(hair.at(x, y), 0.8));
    }

    fn body(&mut self) {
        let p = self.p;
        let clothes = self.poly(&self.shape.shoulders.clone());
        self.canvas.fill(&clothes, 1.0, p.clothes_color);
        let neck = self.poly(&self.shape.neck.clone());
        self.canvas.fill(&neck, 1.0, mul(p.skin, 0.78));
        // Shadow of the head on the neck.
        let jaw = self.lms(&[2, 4, 6, 8, 10, 12, 14]);
        let shadow = Coverage::stroke(&jaw, &[self.px(0.22); 7], false, self.size, self.size)
            .feather(3, self.size, self.size)
            .intersect(&neck);
        self.canvas.shade(&shadow, 0.7);
    }

    fn ears(&mut self) {
        for (c, r) in self.shape.ears {
            let cov = Coverage::ellipse(c, r, self.p.roll.to_radians(), self.size, self.size);
            self.canvas.fill(&cov, 1.0, mul(self.p.skin, 0.85));
            let inner = Coverage::ellipse(c, [r[0] * 0.5, r[1] * 0.6], 0.0, self.size, self.size);
            self.canvas.fill(&inner, 0.35, mul(self.p.skin, 0.55));
        }
    }

    fn skin(&mut self) {
        let outline = self.shape.face_outline.clone();
        let face = self.poly(&outline);
        let skin = self.p.skin;
        let pose = self.pose();
        let key = self.key ^ 0x5c1;
        let light = |u: f32, v: f32| self.light(u, v);
        let shade: Vec<(usize, f32)> = (0..face.height)
            .flat_map(|py| (0..face.width).map(move |px| (py, px)))
            .map(|(py, px)| {
                let (x, y) = (
                    face.x0 as f32 + px as f32 + 0.5,
                    face.y0 as f32 + py as f32 + 0.5,
                );
                let (u, v) = pose.unproject(x, y);
                let pores = smooth_noise(key, x * 0.7, y * 0.7) * 0.015;
                (py * face.width + px, light(u, v) + pores)
            })
            .collect();
        let mut canvas = std::mem::replace(&mut self.canvas, Canvas::new(0, 0, [0.0; 3]));
        let width = face.width;
        let (x0, y0) = (face.x0, face.y0);
        canvas.paint(&face, 1.0, |x, y, _| {
            let idx = (y as i32 - y0) as usize * width + (x as i32 - x0) as usize;
            mul(skin, shade[idx].1)
        });
        self.canvas = canvas;
        // Cheeks: a soft warm flush.
        for side in [-1.0f32, 1.0] {
            let c = pose.project(P3 {
                x: side * 0.5,
                y: self.p.nose_y + 0.05,
                z: 0.5,
            });
            let r = self.px(0.17);
            let cheek = Coverage::ellipse(c, [r, r * 0.75], 0.0, self.size, self.size)
                .feather(4, self.size, self.size);
            self.canvas.fill(&cheek, self.p.blush, [0.85, 0.35, 0.35]);
        }
    }

    fn nose(&mut self) {
        let p = self.p;
        let s = self.size;
        // Side shadow of the bridge, on the side away from the light.
        let side = if p.light_angle.cos() > 0.0 { -1.0 } else { 1.0 };
        let off = self.px(p.nose_bridge_width);
        let bridge: Vec<Point> = [27usize, 28, 29]
            .iter()
            .map(|&i| {
                let q = self.lm(i);
                [q[0] + side * off, q[1]]
            })
            .chain(std::iter::once(self.lm(if side < 0.0 { 31 } else { 35 })))
            .collect();
        let shadow = Coverage::stroke(
            &bridge,
            &[self.px(0.03), self.px(0.05), self.px(0.06), self.px(0.05)],
            false,
            s,
            s,
        )
        .feather(2, s, s);
        self.canvas.shade(&shadow, 0.86);
        // Tip highlight.
        let tip = self.lm(30);
        let hl = Coverage::ellipse(tip, [self.px(0.05), self.px(0.04)], 0.0, s, s).feather(2, s, s);
        self.canvas
            .paint(&hl, 0.5, |_, _, c| c.map(|v| (v * 1.12).min(1.0)));
        // Alae and nostrils.
        let ala = self.lms(&[31, 32, 33, 34, 35]);
        let ala_cov = Coverage::stroke(&ala, &[self.px(0.025); 5], false, s, s).feather(1, s, s);
        self.canvas.shade(&ala_cov, 0.8);
        for (a, b) in [(31, 32), (35, 34)] {
            let (pa, pb) = (self.lm(a), self.lm(b));
            let c = [
                (pa[0] * 0.4 + pb[0] * 0.6),
                (pa[1] * 0.3 + pb[1] * 0.7) - self.px(0.01),
            ];
            let nostril = Coverage::ellipse(c, [self.px(0.035), self.px(0.018)], 0.0, s, s);
            self.canvas.fill(&nostril, 0.85, mul(p.skin, 0.3));
        }
        for (a, b) in [(31, 27), (35, 27)] {
            let line = [self.lm(a), mix2(self.lm(a), self.lm(b), 0.25)];
            let crease = Coverage::stroke(&line, &[self.px(0.02), self.px(0.005)], false, s, s);
            self.canvas.shade(&crease, 0.85);
        }
    }

    fn mouth(&mut self) {
        let p = self.p;
        let s = self.size;
        let outer: Vec<usize> = (48..60).collect();
        let lips = self.poly(&self.lms(&outer));
        let upper = self.poly(&self.lms(&[48, 49, 50, 51, 52, 53, 54, 64, 63, 62, 61, 60]));
        let lip = p.lip_color;
        let ul = self.lm(51)[1];
        let ll = self.lm(57)[1];
        self.canvas.paint(&lips, 1.0, |_, y, _| {
            let t = ((y - ul) / (ll - ul).max(1.0)).clamp(0.0, 1.0);
            mul(lip, 0.9 + 0.2 * (1.0 - (t - 0.75).abs() * 2.0).max(0.0))
        });
        self.canvas.shade(&upper, 0.85);
        if p.mouth_open > 0.0 {
            let inner: Vec<usize> = (60..68).collect();
            let cavity = self.poly(&self.lms(&inner));
            self.canvas.fill(&cavity, 1.0, [0.18, 0.06, 0.06]);
            let teeth_h = self.px(p.mouth_open * 0.45);
            let top: Vec<Point> = self.lms(&[60, 61, 62, 63, 64]);
            let mut band = top.clone();
            band.extend(top.iter().rev().map(|q| [q[0], q[1] + teeth_h]));
            let teeth = self.poly(&band).intersect(&cavity);
            self.canvas.fill(&teeth, 1.0, [0.92, 0.9, 0.84]);
        } else {
            let line = self.lms(&[48, 60, 61, 62, 63, 64, 54]);
            let w = self.px(0.012).max(0.8);
            let cov = Coverage::stroke(&line, &[w * 0.6, w, w, w, w, w, w * 0.6], false, s, s);
            self.canvas.fill(&cov, 0.8, mul(lip, 0.45));
        }
        // Shadow under the lower lip.
        let chin_line =
            [self.lm(58), self.lm(57), self.lm(56)].map(|q| [q[0], q[1] + self.px(0.035)]);
        let shadow =
            Coverage::stroke(&chin_line, &[self.px(0.03); 3], false, s, s).feather(2, s, s);
        self.canvas.shade(&shadow, 0.9);
    }

    fn eyes(&mut self) {
        let p = self.p;
        let s = self.size;
        for (range, upper) in [(36..42, [36usize, 37, 38, 39]), (42..48, [42, 43, 44, 45])] {
            let idx: Vec<usize> = range.collect();
            let pts = self.lms(&idx);
            let sclera = self.poly(&pts);
            // Socket shadow above the eye.
            let lid: Vec<Point> = self
                .lms(&upper)
                .iter()
                .map(|q| [q[0], q[1] - self.px(0.03)])
                .collect();
            let socket = Coverage::stroke(&lid, &[self.px(0.05); 4], false, s, s).feather(3, s, s);
            self.canvas.shade(&socket, 0.88);
            self.canvas.fill(&sclera, 1.0, [0.93, 0.91, 0.88]);
            let c = {
                let n = pts.len() as f32;
                let (sx, sy) = pts.iter().fold((0.0, 0.0), |a, q| (a.0 + q[0], a.1 + q[1]));
                [sx / n, sy / n - self.px(0.005)]
            };
            let r = self.px(p.eye_width * 0.42);
            let iris = Coverage::ellipse(c, [r, r], 0.0, s, s).intersect(&sclera);
            self.canvas.fill(&iris, 1.0, p.iris_color);
            let pupil = Coverage::ellipse(c, [r * 0.45, r * 0.45], 0.0, s, s).intersect(&sclera);
            self.canvas.fill(&pupil, 1.0, [0.03, 0.03, 0.03]);
            let glint = Coverage::ellipse(
                [c[0] + r * 0.3, c[1] - r * 0.35],
                [r * 0.18, r * 0.18],
                0.0,
                s,
                s,
            )
            .intersect(&sclera);
            self.canvas.fill(&glint, 0.9, [1.0, 1.0, 1.0]);
            let lash = self.lms(&upper);
            let w = self.px(0.018).max(1.0);
            let cov = Coverage::stroke(&lash, &[w * 0.8, w * 1.3, w * 1.2, w * 0.6], false, s, s);
            self.canvas.fill(&cov, 0.95, [0.08, 0.06, 0.05]);
            let lower: Vec<Point> = self.lms(&[idx[3], idx[4], idx[5], idx[0]]);
            let cov = Coverage::stroke(&lower, &[w * 0.4; 4], false, s, s);
            self.canvas.fill(&cov, 0.4, mul(p.skin, 0.5));
        }
    }

    fn brows(&mut self) {
        let p = self.p;
        let s = self.size;
        let t = self.px(p.brow_thickness);
        for (idx, widths) in [
            ([17usize, 18, 19, 20, 21], [0.45, 0.8, 1.0, 1.0, 0.9]),
            ([26, 25, 24, 23, 22], [0.45, 0.8, 1.0, 1.0, 0.9]),
        ] {
            let pts = self.lms(&idx);
            let w: Vec<f32> = widths.iter().map(|f| f * t).collect();
            let cov = Coverage::stroke(&pts, &w, false, s, s).feather(1, s, s);
            self.canvas.fill(&cov, 0.9, mul(p.hair_color, 0.9));
        }
    }

    fn facial_hair(&mut self) {
        let p = self.p;
        let s = self.size;
        if p.facial_hair == FacialHair::None {
            return;
        }
        let lips = self.poly(&self.lms(&(48..60).collect::<Vec<_>>()));
        let moustache = {
            let top = self.lms(&[31, 32, 33, 34, 35]);
            let mut pts: Vec<Point> = vec![[
                self.lm(48)[0] - self.px(0.03),
                self.lm(48)[1] + self.px(0.02),
            ]];
            pts.extend(top.iter().map(|q| [q[0], q[1] + self.px(0.025)]));
            pts.push([
                self.lm(54)[0] + self.px(0.03),
                self.lm(54)[1] + self.px(0.02),
            ]);
            pts.extend(self.lms(&[53, 52, 51, 50, 49]));
            self.poly(&pts).subtract(&lips)
        };
        let chin = {
            let mut pts = self.lms(&[48, 59, 58, 57, 56, 55, 54]);
            pts.extend(self.lms(&[11, 10, 9, 8, 7, 6, 5]));
            self.poly(&pts).subtract(&lips)
        };
        let beard = {
            let mut pts = self.lms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
            pts.push(self.lm(54));
            pts.extend(self.lms(&[55, 56, 57, 58, 59]));
            pts.push(self.lm(48));
            self.poly(&pts).subtract(&lips)
        };
        let (regions, opacity): (Vec<&Coverage>, f32) = match p.facial_hair {
            FacialHair::Stubble => (vec![&beard, &moustache], 0.35),
            FacialHair::Moustache => (vec![&moustache], 0.9),
            FacialHair::Goatee => (vec![&moustache, &chin], 0.9),
            FacialHair::Beard => (vec![&beard, &moustache], 0.92),
            FacialHair::None => (vec![], 0.0),
        };
        let color = mul(p.hair_color, 0.9);
        let key = self.key ^ 0xbea2d;
        for region in regions {
            let soft = region.feather(1, s, s);
            self.canvas.paint(&soft, opacity, |x, y, c| {
                let speck = hash_noise(key, x as i32, y as i32);
                let density = 0.55 + 0.45 * speck;
                mix(c, mul(color, 0.9 + 0.2 * speck), density)
            });
        }
    }

    fn hair_front(&mut self) {
        let p = self.p;
        if p.hair_style == HairStyle::Bald {
            return;
        }
        let pose = self.pose();
        let fw = p.face_width;
        let top = -p.forehead_height;
        let (volume, line_y, jag) = match p.hair_style {
            HairStyle::Buzz => (0.0, top * 0.78, 0.0),
            HairStyle::Short => (0.06, top * 0.72, 0.0),
            HairStyle::SidePart => (0.08, top * 0.7, 0.0),
            HairStyle::Fringe => (0.08, top * 0.42, 0.035),
            HairStyle::Long => (0.1, top * 0.68, 0.0),
            HairStyle::Curly => (0.14, top * 0.7, 0.03),
            HairStyle::Bald => unreachable!("returned above"),
        };
        let mut outline = self.hair_outline(volume);
        let temple_y = p.eye_y - 0.05;
        let n = 16;
        for i in 0..=n {
            // The skull outline ends on the left, so the hairline runs back left to right.
            let u = -1.0 + 2.0 * i as f32 / n as f32;
            let x = u * (fw + 0.02);
            let side = if p.hair_style == HairStyle::SidePart {
                0.12 * u
            } else {
                0.0
            };
            let arch = (1.0 - u * u).max(0.0).sqrt();
            let jagged = jag * ((i % 2) as f32);
            let y = temple_y + (line_y - temple_y) * arch + side + jagged;
            outline.push(pose.project(P3 { x, y, z: 0.5 }));
        }
        let cov = self.poly(&outline);
        let hair = self.hair_paint();
        // Buzz-cut hair lets the scalp show through.
        let opacity = if p.hair_style == HairStyle::Buzz {
            0.6
        } else {
            1.0
        };
        self.canvas.paint(&cov, opacity, |x, y, _| hair.at(x, y));
    }

    fn glasses(&mut self) {
        let p = self.p;
        let s = self.size;
        if p.glasses == Glasses::None {
            return;
        }
        let w = self.px(0.022).max(1.2);
        let mut inner_ends = Vec::new();
        for (range, outer) in [(36..42, 36usize), (42..48, 45)] {
            let idx: Vec<usize> = range.collect();
            let pts = self.lms(&idx);
            let c = [
                pts.iter().map(|q| q[0]).sum::<f32>() / 6.0,
                pts.iter().map(|q| q[1]).sum::<f32>() / 6.0 + self.px(0.02),
            ];
            let rx = self.px(p.eye_width * 1.55);
            let ry = self.px(p.eye_width * 1.15);
            let rim: Vec<Point> = match p.glasses {
                Glasses::Round => (0..32)
                    .map(|i| {
                        let t = i as f32 / 32.0 * std::f32::consts::TAU;
                        [c[0] + rx * t.cos(), c[1] + ry * t.sin()]
                    })
                    .collect(),
                _ => (0..32)
                    .map(|i| {
                        let t = i as f32 / 32.0 * std::f32::consts::TAU;
                        let (ct, st) = (t.cos(), t.sin());
                        // A superellipse: a rectangle with rounded corners.
                        let f = |v: f32| v.signum() * v.abs().powf(0.4);
                        [c[0] + rx * f(ct), c[1] + ry * 0.85 * f(st)]
                    })
                    .collect(),
            };
            let lens = self.poly(&rim);
            self.canvas
                .paint(&lens, 0.12, |_, _, c| mix(c, [0.75, 0.85, 0.9], 0.5));
            let frame = Coverage::stroke(&rim, &vec![w; rim.len()], true, s, s);
            self.canvas.fill(&frame, 1.0, p.glasses_color);
            let po = self.lm(outer);
            // The arm leaves the rim on the temple side of each eye.
            let dir = if outer == 36 { -1.0 } else { 1.0 };
            inner_ends.push([c[0] - dir * rx, c[1] - ry * 0.2]);
            let arm = [
                [c[0] + dir * rx, c[1] - ry * 0.3],
                [po[0] + dir * self.px(0.45), po[1] - self.px(0.02)],
            ];
            let cov = Coverage::stroke(&arm, &[w, w * 0.8], false, s, s);
            self.canvas.fill(&cov, 1.0, p.glasses_color);
        }
        if let [a, b] = inner_ends[..] {
            let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0 - self.px(0.03)];
            let bridge = Coverage::stroke(&[a, mid, b], &[w, w, w], false, s, s);
            self.canvas.fill(&bridge, 1.0, p.glasses_color);
        }
    }

    fn camera(&mut self) {
        self.canvas.blur(self.p.blur_radius as usize);
        if self.p.noise > 0.0 {
            let sigma = self.p.noise;
            let key = self.key ^ 0x7015e;
            let w = self.canvas.width;
            for (i, px) in self.canvas.pixels.iter_mut().enumerate() {
                let (x, y) = ((i % w) as i32, (i / w) as i32);
                let n = (hash_noise(key, x, y) + hash_noise(key ^ 1, x, y)) * sigma;
                *px = px.map(|v| v + n);
            }
        }
    }
}

/// Hair colour with strands and a sheen, in face space so it follows the head.
#[derive(Clone, Copy)]
struct HairPaint {
    color: [f32; 3],
    pose: Pose,
    key: u64,
}

impl HairPaint {
    fn at(&self, x: f32, y: f32) -> [f32; 3] {
        let (u, v) = self.pose.unproject(x, y);
        let strands = (u * 55.0 + smooth_noise(self.key, u * 6.0, v * 2.0) * 4.0).sin() * 0.08;
        let sheen = 1.0 + 0.25 * (-(v + 0.8).powi(2) * 8.0).exp();
        mul(self.color, (0.85 + strands) * sheen)
    }
}

fn mix2(a: Point, b: Point, t: f32) -> Point {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]
}
