//! Supersampled drawing of the mask templates.
//!
//! Shapes are filled at `SS` x `SS` samples per template texel and averaged, which gives
//! anti-aliased edges without analytic coverage. The filler is our own even-odd scanline over
//! `f32` vertices: imageproc's polygon filler takes integer vertices and can panic on an odd
//! crossing count when a horizontal edge joins an up- and a down-going edge.

use crate::Point;

/// Samples per texel along each axis.
pub(crate) const SS: usize = 4;

/// Centre and radius of the cylinder the turned variants are wrapped on (template units).
pub(crate) const WARP_X0: f32 = 200.0;
pub(crate) const WARP_R: f32 = 200.0;

/// What a filled shape writes into the template layers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Paint {
    /// Takes the mask's (recolourable, texturable) body colour; otherwise `rgb`.
    fabric: bool,
    /// Gets the template's procedural body shading (pleats, folds).
    body: bool,
    /// Multiplier on the colour, 1 = unshaded.
    shade: f32,
    rgb: [u8; 3],
}

impl Paint {
    /// Mask body: recolourable and shaded procedurally.
    pub(crate) fn body(shade: f32) -> Self {
        Self {
            fabric: true,
            body: true,
            shade,
            rgb: [0; 3],
        }
    }

    /// Recolourable trim (bindings, hems) that keeps its own flat shading.
    pub(crate) fn trim(shade: f32) -> Self {
        Self {
            fabric: true,
            body: false,
            shade,
            rgb: [0; 3],
        }
    }

    /// A part with its own colour (ear loops, straps, filters).
    pub(crate) fn detail(rgb: [u8; 3], shade: f32) -> Self {
        Self {
            fabric: false,
            body: false,
            shade,
            rgb,
        }
    }
}

/// Horizontal wrap onto a cylinder seen after a yaw of `psi` radians: the turned variants.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Warp {
    pub(crate) psi: f32,
}

impl Warp {
    pub(crate) fn forward(&self, p: Point) -> Point {
        if self.psi == 0.0 {
            return p;
        }
        let phi = ((p[0] - WARP_X0) / WARP_R).clamp(-1.0, 1.0).asin();
        let th = (phi + self.psi).clamp(-std::f32::consts::FRAC_PI_2, std::f32::consts::FRAC_PI_2);
        [WARP_X0 + WARP_R * th.sin(), p[1]]
    }

    /// Unwarped x of a warped x.
    pub(crate) fn inverse_x(&self, x: f32) -> f32 {
        if self.psi == 0.0 {
            return x;
        }
        let th = ((x - WARP_X0) / WARP_R).clamp(-1.0, 1.0).asin();
        WARP_X0 + WARP_R * (th - self.psi).sin()
    }

    /// Cosine between the cylinder's normal at warped `x` and the view direction.
    pub(crate) fn facing(&self, x: f32) -> f32 {
        let s = ((x - WARP_X0) / WARP_R).clamp(-1.0, 1.0);
        (1.0 - s * s).sqrt()
    }
}

#[derive(Clone, Copy, Default)]
struct Sample {
    covered: bool,
    fabric: bool,
    body: bool,
    shade: u8,
    rgb: [u8; 3],
}

/// Layers of a drawn template at texel resolution.
pub(crate) struct Layers {
    pub(crate) alpha: Vec<f32>,
    pub(crate) fabric: Vec<f32>,
    pub(crate) body: Vec<f32>,
    pub(crate) shade: Vec<f32>,
    pub(crate) rgb: Vec<[f32; 3]>,
}

/// Shade values are stored as `shade * SHADE_UNIT` so that highlights above 1 fit a `u8`.
pub(crate) const SHADE_UNIT: f32 = 160.0;

pub(crate) struct Canvas {
    width: usize,
    height: usize,
    warp: Warp,
    samples: Vec<Sample>,
}

impl Canvas {
    pub(crate) fn new(width: usize, height: usize, warp: Warp) -> Self {
        Self {
            width,
            height,
            warp,
            samples: vec![Sample::default(); width * height * SS * SS],
        }
    }

    /// Fills a closed polygon given in unwarped template coordinates (even-odd rule).
    pub(crate) fn fill(&mut self, poly: &[Point], paint: Paint) {
        if poly.len() < 3 {
            return;
        }
        let ss = SS as f32;
        let pts: Vec<Point> = densify(
            poly,
            if self.warp.psi == 0.0 {
                f32::INFINITY
            } else {
                3.0
            },
        )
        .into_iter()
        .map(|p| {
            let q = self.warp.forward(p);
            [q[0] * ss, q[1] * ss]
        })
        .collect();
        let (sw, sh) = (self.width * SS, self.height * SS);
        let (ymin, ymax) = pts
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p[1]), hi.max(p[1]))
            });
        if !(ymin.is_finite() && ymax.is_finite()) {
            return;
        }
        let j0 = (ymin - 0.5).ceil().max(0.0) as usize;
        let j1 = ((ymax - 0.5).floor() + 1.0).clamp(0.0, sh as f32) as usize;
        let sample = Sample {
            covered: true,
            fabric: paint.fabric,
            body: paint.body,
            shade: (paint.shade * SHADE_UNIT).round().clamp(0.0, 255.0) as u8,
            rgb: paint.rgb,
        };
        let mut xs: Vec<f32> = Vec::new();
        for j in j0..j1 {
            let yc = j as f32 + 0.5;
            xs.clear();
            for k in 0..pts.len() {
                let (p, q) = (pts[k], pts[(k + 1) % pts.len()]);
                if (p[1] <= yc) != (q[1] <= yc) {
                    xs.push(p[0] + (yc - p[1]) * (q[0] - p[0]) / (q[1] - p[1]));
                }
            }
            xs.sort_by(f32::total_cmp);
            for span in xs.chunks_exact(2) {
                let i0 = (span[0] - 0.5).ceil().clamp(0.0, sw as f32) as usize;
                let i1 = (span[1] - 0.5).ceil().clamp(0.0, sw as f32) as usize;
                let row = &mut self.samples[j * sw..(j + 1) * sw];
                for s in &mut row[i0..i1.max(i0)] {
                    *s = sample;
                }
            }
        }
    }

    /// Strokes an open polyline with round joins and caps.
    pub(crate) fn stroke(&mut self, line: &[Point], width: f32, paint: Paint) {
        let r = width / 2.0;
        for seg in line.windows(2) {
            let (p, q) = (seg[0], seg[1]);
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            let len = (dx * dx + dy * dy).sqrt();
            if len > 0.0 {
                let (nx, ny) = (-dy / len * r, dx / len * r);
                self.fill(
                    &[
                        [p[0] + nx, p[1] + ny],
                        [q[0] + nx, q[1] + ny],
                        [q[0] - nx, q[1] - ny],
                        [p[0] - nx, p[1] - ny],
                    ],
                    paint,
                );
            }
        }
        for p in line {
            self.fill(&ellipse(*p, r, r, 12), paint);
        }
    }

    /// Averages the samples of each texel.
    pub(crate) fn finish(self) -> Layers {
        let n = self.width * self.height;
        let mut out = Layers {
            alpha: vec![0.0; n],
            fabric: vec![0.0; n],
            body: vec![0.0; n],
            shade: vec![0.0; n],
            rgb: vec![[0.0; 3]; n],
        };
        let sw = self.width * SS;
        for ty in 0..self.height {
            for tx in 0..self.width {
                let (mut cov, mut fab, mut body, mut shade, mut det) =
                    (0u32, 0u32, 0u32, 0u32, 0u32);
                let mut rgb = [0u32; 3];
                for sy in 0..SS {
                    let row = (ty * SS + sy) * sw + tx * SS;
                    for s in &self.samples[row..row + SS] {
                        if !s.covered {
                            continue;
                        }
                        cov += 1;
                        fab += s.fabric as u32;
                        body += s.body as u32;
                        shade += s.shade as u32;
                        if !s.fabric {
                            det += 1;
                            for (sum, v) in rgb.iter_mut().zip(s.rgb) {
                                *sum += v as u32;
                            }
                        }
                    }
                }
                if cov == 0 {
                    continue;
                }
                let i = ty * self.width + tx;
                let c = cov as f32;
                out.alpha[i] = c / (SS * SS) as f32;
                out.fabric[i] = fab as f32 / c;
                out.body[i] = body as f32 / c;
                out.shade[i] = shade as f32 / c / SHADE_UNIT;
                if det > 0 {
                    out.rgb[i] = rgb.map(|v| v as f32 / det as f32);
                }
            }
        }
        out
    }
}

/// Splits edges (closing edge included) longer than `max_len`, so that warped straight edges
/// follow the warp.
fn densify(poly: &[Point], max_len: f32) -> Vec<Point> {
    if !max_len.is_finite() {
        return poly.to_vec();
    }
    let mut out = Vec::with_capacity(poly.len() * 2);
    for k in 0..poly.len() {
        let (p, q) = (poly[k], poly[(k + 1) % poly.len()]);
        let len = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
        let n = (len / max_len).ceil().clamp(1.0, 1000.0) as usize;
        for i in 0..n {
            let t = i as f32 / n as f32;
            out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
        }
    }
    out
}

// Geometry helpers in template units.

/// `n + 1` points on a cubic Bezier curve.
pub(crate) fn cubic(p0: Point, p1: Point, p2: Point, p3: Point, n: usize) -> Vec<Point> {
    (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            let s = 1.0 - t;
            let (a, b, c, d) = (s * s * s, 3.0 * s * s * t, 3.0 * s * t * t, t * t * t);
            [
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            ]
        })
        .collect()
}

/// `n + 1` points on a quadratic Bezier curve.
pub(crate) fn quad(p0: Point, p1: Point, p2: Point, n: usize) -> Vec<Point> {
    let c1 = [
        p0[0] + 2.0 / 3.0 * (p1[0] - p0[0]),
        p0[1] + 2.0 / 3.0 * (p1[1] - p0[1]),
    ];
    let c2 = [
        p2[0] + 2.0 / 3.0 * (p1[0] - p2[0]),
        p2[1] + 2.0 / 3.0 * (p1[1] - p2[1]),
    ];
    cubic(p0, c1, c2, p2, n)
}

/// `n` points around an axis-aligned ellipse.
pub(crate) fn ellipse(c: Point, rx: f32, ry: f32, n: usize) -> Vec<Point> {
    (0..n)
        .map(|i| {
            let t = std::f32::consts::TAU * i as f32 / n as f32;
            [c[0] + rx * t.cos(), c[1] + ry * t.sin()]
        })
        .collect()
}

/// Rounded rectangle `[x0, x1] x [y0, y1]` with corner radius `r`.
pub(crate) fn rounded_rect(x0: f32, y0: f32, x1: f32, y1: f32, r: f32) -> Vec<Point> {
    let r = r.min((x1 - x0) / 2.0).min((y1 - y0) / 2.0);
    let mut out = Vec::new();
    let corners = [
        [x1 - r, y0 + r, -90.0f32],
        [x1 - r, y1 - r, 0.0],
        [x0 + r, y1 - r, 90.0],
        [x0 + r, y0 + r, 180.0],
    ];
    for [cx, cy, start] in corners {
        for i in 0..=6 {
            let t = (start + 15.0 * i as f32).to_radians();
            out.push([cx + r * t.cos(), cy + r * t.sin()]);
        }
    }
    out
}

/// The polyline moved by `d` along its left-hand normal (downwards for a left-to-right line in
/// y-down coordinates).
pub(crate) fn offset(line: &[Point], d: f32) -> Vec<Point> {
    let n = line.len();
    (0..n)
        .map(|i| {
            let (p, q) = (line[i.saturating_sub(1)], line[(i + 1).min(n - 1)]);
            let (tx, ty) = (q[0] - p[0], q[1] - p[1]);
            let len = (tx * tx + ty * ty).sqrt().max(1e-6);
            [line[i][0] - ty / len * d, line[i][1] + tx / len * d]
        })
        .collect()
}

/// A band of width `w` on the left-hand side of a polyline.
pub(crate) fn band(line: &[Point], w: f32) -> Vec<Point> {
    let mut poly = line.to_vec();
    poly.extend(offset(line, w).into_iter().rev());
    poly
}

/// Points spaced `step` apart along a polyline (by arc length).
pub(crate) fn resample(line: &[Point], step: f32) -> Vec<Point> {
    let mut out = Vec::new();
    let mut next = 0.0;
    let mut walked = 0.0;
    for seg in line.windows(2) {
        let (p, q) = (seg[0], seg[1]);
        let len = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
        while next <= walked + len && len > 0.0 {
            let t = (next - walked) / len;
            out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
            next += step;
        }
        walked += len;
    }
    out
}

/// Mirror image about the template's vertical centre line.
pub(crate) fn mirror(poly: &[Point]) -> Vec<Point> {
    poly.iter()
        .rev()
        .map(|p| [2.0 * WARP_X0 - p[0], p[1]])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_coverage_is_exact_and_edges_are_fractional() {
        let mut c = Canvas::new(8, 8, Warp { psi: 0.0 });
        c.fill(
            &[[2.0, 2.0], [6.0, 2.0], [6.0, 6.0], [2.0, 6.0]],
            Paint::body(1.0),
        );
        c.fill(
            &[[0.0, 0.0], [1.5, 0.0], [1.5, 1.0], [0.0, 1.0]],
            Paint::detail([255, 0, 0], 1.0),
        );
        let l = c.finish();
        assert_eq!(l.alpha[3 * 8 + 3], 1.0);
        assert_eq!(l.alpha[8 + 1], 0.0);
        assert_eq!(l.alpha[1], 0.5);
        assert_eq!(l.rgb[0], [255.0, 0.0, 0.0]);
        let total: f32 = l.alpha.iter().sum();
        assert!((total - 17.5).abs() < 1e-4);
    }

    #[test]
    fn warp_round_trips() {
        let w = Warp { psi: 0.4 };
        for x in [50.0, 120.0, 200.0, 260.0] {
            let y = w.forward([x, 0.0])[0];
            assert!((w.inverse_x(y) - x).abs() < 1e-2, "{x} {y}");
        }
    }
}
