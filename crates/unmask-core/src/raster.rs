//! A small anti-aliased rasteriser: shapes become [`Coverage`] maps (alpha in [0, 1] over a
//! clipped bounding box), and coverage maps are painted onto an RGB [`Canvas`] of f32 values.
//!
//! Polygons use 4 sub-scanlines per pixel with exact horizontal span coverage, which is both
//! fast (the face generator draws dozens of shapes per image) and smooth enough that binary
//! masks thresholded at 0.5 follow the true outline.

use crate::Point;

const SUBSCANLINES: usize = 4;

/// Alpha coverage over the pixel rectangle `[x0, x0 + width) x [y0, y0 + height)`.
#[derive(Clone, Debug)]
pub struct Coverage {
    pub x0: i32,
    pub y0: i32,
    pub width: usize,
    pub height: usize,
    pub alpha: Vec<f32>,
}

impl Coverage {
    pub fn empty() -> Self {
        Self {
            x0: 0,
            y0: 0,
            width: 0,
            height: 0,
            alpha: Vec::new(),
        }
    }

    fn zeros(x0: i32, y0: i32, width: usize, height: usize) -> Self {
        Self {
            x0,
            y0,
            width,
            height,
            alpha: vec![0.0; width * height],
        }
    }

    /// A box covering `points` grown by `margin`, clipped to a `w` x `h` canvas.
    fn bounded(points: impl Iterator<Item = Point>, margin: f32, w: usize, h: usize) -> Self {
        let (mut lx, mut ly, mut hx, mut hy) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in points {
            if !(p[0].is_finite() && p[1].is_finite()) {
                return Self::empty();
            }
            lx = lx.min(p[0]);
            ly = ly.min(p[1]);
            hx = hx.max(p[0]);
            hy = hy.max(p[1]);
        }
        if lx > hx {
            return Self::empty();
        }
        let x0 = ((lx - margin).floor().max(0.0) as i64).min(w as i64) as i32;
        let y0 = ((ly - margin).floor().max(0.0) as i64).min(h as i64) as i32;
        let x1 = ((hx + margin).ceil().max(0.0) as i64).min(w as i64) as i32;
        let y1 = ((hy + margin).ceil().max(0.0) as i64).min(h as i64) as i32;
        if x1 <= x0 || y1 <= y0 {
            return Self::empty();
        }
        Self::zeros(x0, y0, (x1 - x0) as usize, (y1 - y0) as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// Coverage at canvas pixel (x, y), 0 outside the box.
    pub fn at(&self, x: i32, y: i32) -> f32 {
        let (lx, ly) = (x - self.x0, y - self.y0);
        if lx < 0 || ly < 0 || lx as usize >= self.width || ly as usize >= self.height {
            return 0.0;
        }
        self.alpha[ly as usize * self.width + lx as usize]
    }

    /// A filled polygon (non-zero winding), clipped to a `w` x `h` canvas.
    pub fn polygon(points: &[Point], w: usize, h: usize) -> Self {
        let mut cov = Self::bounded(points.iter().copied(), 1.0, w, h);
        if cov.is_empty() || points.len() < 3 {
            return Self::empty();
        }
        let mut crossings: Vec<(f32, i32)> = Vec::with_capacity(16);
        let mut row = vec![0.0f32; cov.width];
        for py in 0..cov.height {
            row.iter_mut().for_each(|v| *v = 0.0);
            for s in 0..SUBSCANLINES {
                let y = (cov.y0 + py as i32) as f32 + (s as f32 + 0.5) / SUBSCANLINES as f32;
                crossings.clear();
                for i in 0..points.len() {
                    let a = points[i];
                    let b = points[(i + 1) % points.len()];
                    if (a[1] <= y) != (b[1] <= y) {
                        let t = (y - a[1]) / (b[1] - a[1]);
                        let dir = if b[1] > a[1] { 1 } else { -1 };
                        crossings.push((a[0] + t * (b[0] - a[0]), dir));
                    }
                }
                crossings.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut winding = 0;
                for pair in crossings.windows(2) {
                    winding += pair[0].1;
                    if winding != 0 {
                        add_span(&mut row, cov.x0, pair[0].0, pair[1].0);
                    }
                }
            }
            let dst = &mut cov.alpha[py * cov.width..(py + 1) * cov.width];
            for (d, v) in dst.iter_mut().zip(&row) {
                *d = (v / SUBSCANLINES as f32).min(1.0);
            }
        }
        cov
    }

    /// A filled ellipse centred at `c` with radii `r` rotated by `angle` radians.
    pub fn ellipse(c: Point, r: [f32; 2], angle: f32, w: usize, h: usize) -> Self {
        let n = ((r[0].max(r[1]) * 1.5) as usize).clamp(16, 96);
        let (sa, ca) = angle.sin_cos();
        let pts: Vec<Point> = (0..n)
            .map(|i| {
                let t = i as f32 / n as f32 * std::f32::consts::TAU;
                let (x, y) = (r[0] * t.cos(), r[1] * t.sin());
                [c[0] + x * ca - y * sa, c[1] + x * sa + y * ca]
            })
            .collect();
        Self::polygon(&pts, w, h)
    }

    /// A stroked polyline whose width is interpolated between per-vertex `widths`, with round
    /// caps: coverage is the distance to the nearest segment against the local half width.
    pub fn stroke(points: &[Point], widths: &[f32], closed: bool, w: usize, h: usize) -> Self {
        let max_w = widths.iter().copied().fold(0.0f32, f32::max);
        let mut cov = Self::bounded(points.iter().copied(), max_w / 2.0 + 1.0, w, h);
        if cov.is_empty() || points.len() < 2 || widths.len() != points.len() {
            return Self::empty();
        }
        let n_seg = if closed {
            points.len()
        } else {
            points.len() - 1
        };
        for py in 0..cov.height {
            let y = (cov.y0 + py as i32) as f32 + 0.5;
            for px in 0..cov.width {
                let x = (cov.x0 + px as i32) as f32 + 0.5;
                let mut best = 0.0f32;
                for i in 0..n_seg {
                    let j = (i + 1) % points.len();
                    let (a, b) = (points[i], points[j]);
                    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                    let len2 = dx * dx + dy * dy;
                    let t = if len2 > 0.0 {
                        (((x - a[0]) * dx + (y - a[1]) * dy) / len2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let (qx, qy) = (a[0] + t * dx - x, a[1] + t * dy - y);
                    let d = (qx * qx + qy * qy).sqrt();
                    let half = (widths[i] + t * (widths[j] - widths[i])) / 2.0;
                    best = best.max((half + 0.5 - d).clamp(0.0, 1.0));
                }
                cov.alpha[py * cov.width + px] = best;
            }
        }
        cov
    }

    /// Pointwise product with `other` (shape intersection), keeping this box.
    pub fn intersect(mut self, other: &Coverage) -> Self {
        for py in 0..self.height {
            for px in 0..self.width {
                let v = other.at(self.x0 + px as i32, self.y0 + py as i32);
                self.alpha[py * self.width + px] *= v;
            }
        }
        self
    }

    /// Removes `other` from this shape (alpha * (1 - other)).
    pub fn subtract(mut self, other: &Coverage) -> Self {
        for py in 0..self.height {
            for px in 0..self.width {
                let v = other.at(self.x0 + px as i32, self.y0 + py as i32);
                self.alpha[py * self.width + px] *= 1.0 - v;
            }
        }
        self
    }

    /// Softens the edges with a box blur of `radius` pixels (two passes, close to a Gaussian),
    /// growing the box so nothing is cut off, clipped to the `w` x `h` canvas.
    pub fn feather(&self, radius: usize, w: usize, h: usize) -> Self {
        if radius == 0 || self.is_empty() {
            return self.clone();
        }
        let grow = 2 * radius as i32;
        let x0 = (self.x0 - grow).max(0);
        let y0 = (self.y0 - grow).max(0);
        let x1 = (self.x0 + self.width as i32 + grow).min(w as i32);
        let y1 = (self.y0 + self.height as i32 + grow).min(h as i32);
        let mut out = Self::zeros(x0, y0, (x1 - x0) as usize, (y1 - y0) as usize);
        for py in 0..out.height {
            for px in 0..out.width {
                out.alpha[py * out.width + px] = self.at(x0 + px as i32, y0 + py as i32);
            }
        }
        for _ in 0..2 {
            box_blur_rows(&mut out.alpha, out.width, out.height, radius);
            transpose_blur(&mut out.alpha, out.width, out.height, radius);
        }
        out
    }

    /// Multiplies every alpha by `f` (clamped to [0, 1]).
    pub fn scaled(mut self, f: f32) -> Self {
        self.alpha
            .iter_mut()
            .for_each(|a| *a = (*a * f).clamp(0.0, 1.0));
        self
    }
}

fn add_span(row: &mut [f32], x0: i32, xa: f32, xb: f32) {
    let w = row.len() as f32;
    let a = (xa - x0 as f32).clamp(0.0, w);
    let b = (xb - x0 as f32).clamp(0.0, w);
    if b <= a {
        return;
    }
    let (ia, ib) = (a.floor() as usize, b.floor() as usize);
    if ia == ib {
        row[ia] += b - a;
        return;
    }
    row[ia] += ia as f32 + 1.0 - a;
    for v in &mut row[ia + 1..ib] {
        *v += 1.0;
    }
    if ib < row.len() {
        row[ib] += b - ib as f32;
    }
}

fn box_blur_rows(data: &mut [f32], width: usize, height: usize, radius: usize) {
    let mut line = vec![0.0f32; width];
    let norm = 1.0 / (2 * radius + 1) as f32;
    for y in 0..height {
        let row = &mut data[y * width..(y + 1) * width];
        line.copy_from_slice(row);
        let mut acc: f32 = line.iter().take(radius + 1).sum();
        for (x, out) in row.iter_mut().enumerate() {
            *out = acc * norm;
            if x + radius + 1 < width {
                acc += line[x + radius + 1];
            }
            if x >= radius {
                acc -= line[x - radius];
            }
        }
    }
}

fn transpose_blur(data: &mut [f32], width: usize, height: usize, radius: usize) {
    let mut t = vec![0.0f32; width * height];
    for y in 0..height {
        for x in 0..width {
            t[x * height + y] = data[y * width + x];
        }
    }
    box_blur_rows(&mut t, height, width, radius);
    for y in 0..height {
        for x in 0..width {
            data[y * width + x] = t[x * height + y];
        }
    }
}

/// An RGB image of f32 values in [0, 1] that shapes are painted onto.
#[derive(Clone, Debug)]
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<[f32; 3]>,
}

impl Canvas {
    pub fn new(width: usize, height: usize, fill: [f32; 3]) -> Self {
        Self {
            width,
            height,
            pixels: vec![fill; width * height],
        }
    }

    /// Fills every pixel from a function of its centre.
    pub fn fill_with(&mut self, f: impl Fn(f32, f32) -> [f32; 3]) {
        for (i, px) in self.pixels.iter_mut().enumerate() {
            let (x, y) = ((i % self.width) as f32 + 0.5, (i / self.width) as f32 + 0.5);
            *px = f(x, y);
        }
    }

    /// Blends `paint(x, y, current)` over the covered pixels with alpha `coverage * opacity`.
    pub fn paint(
        &mut self,
        cov: &Coverage,
        opacity: f32,
        paint: impl Fn(f32, f32, [f32; 3]) -> [f32; 3],
    ) {
        for py in 0..cov.height {
            let y = cov.y0 as usize + py;
            for px in 0..cov.width {
                let a = cov.alpha[py * cov.width + px] * opacity;
                if a <= 0.0 {
                    continue;
                }
                let x = cov.x0 as usize + px;
                let dst = &mut self.pixels[y * self.width + x];
                let src = paint(x as f32 + 0.5, y as f32 + 0.5, *dst);
                for c in 0..3 {
                    dst[c] += (src[c] - dst[c]) * a;
                }
            }
        }
    }

    /// Blends a solid colour over the covered pixels.
    pub fn fill(&mut self, cov: &Coverage, opacity: f32, color: [f32; 3]) {
        self.paint(cov, opacity, |_, _, _| color);
    }

    /// Multiplies the covered pixels by `factor` (shadows below 1, highlights above).
    pub fn shade(&mut self, cov: &Coverage, factor: f32) {
        self.paint(cov, 1.0, |_, _, c| c.map(|v| v * factor));
    }

    /// Separable box blur of `radius` pixels over the whole canvas (mild camera blur).
    pub fn blur(&mut self, radius: usize) {
        if radius == 0 {
            return;
        }
        for c in 0..3 {
            let mut chan: Vec<f32> = self.pixels.iter().map(|p| p[c]).collect();
            box_blur_rows(&mut chan, self.width, self.height, radius);
            transpose_blur(&mut chan, self.width, self.height, radius);
            for (p, v) in self.pixels.iter_mut().zip(chan) {
                p[c] = v;
            }
        }
    }

    /// Converts to 8-bit RGB, rounding and clamping.
    pub fn to_rgb8(&self) -> image::RgbImage {
        let mut raw = Vec::with_capacity(self.pixels.len() * 3);
        for p in &self.pixels {
            for v in p {
                raw.push((v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8);
            }
        }
        image::RgbImage::from_raw(self.width as u32, self.height as u32, raw)
            .expect("buffer matches dimensions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(c: &Coverage) -> f32 {
        c.alpha.iter().sum()
    }

    #[test]
    fn polygon_area_matches_geometry() {
        let square = [[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]];
        let c = Coverage::polygon(&square, 64, 64);
        assert!((total(&c) - 400.0).abs() < 1e-3, "{}", total(&c));
        let tri = [[0.3, 0.7], [40.2, 5.1], [20.9, 50.4]];
        let area = 0.5 * ((40.2 - 0.3) * (50.4 - 0.7) - (20.9 - 0.3) * (5.1 - 0.7f32)).abs();
        let c = Coverage::polygon(&tri, 64, 64);
        assert!(
            (total(&c) - area).abs() / area < 0.01,
            "{} vs {area}",
            total(&c)
        );
    }

    #[test]
    fn shapes_are_clipped_to_the_canvas() {
        let c = Coverage::ellipse([0.0, 0.0], [20.0, 20.0], 0.0, 32, 32);
        assert!(c.x0 >= 0 && c.y0 >= 0 && c.x0 as usize + c.width <= 32);
        let area = std::f32::consts::PI * 400.0 / 4.0;
        assert!((total(&c) - area).abs() / area < 0.02);
        let none = Coverage::polygon(&[[-50.0, -50.0], [-40.0, -50.0], [-45.0, -40.0]], 32, 32);
        assert!(none.is_empty());
        let nan = Coverage::polygon(&[[f32::NAN, 1.0], [3.0, 4.0], [5.0, 1.0]], 32, 32);
        assert!(nan.is_empty());
    }

    #[test]
    fn stroke_and_feather_preserve_mass() {
        let s = Coverage::stroke(&[[5.0, 16.0], [45.0, 16.0]], &[4.0, 4.0], false, 64, 32);
        // 40 px long, 4 px wide, plus two round caps of radius 2.
        let expect = 40.0 * 4.0 + std::f32::consts::PI * 4.0;
        assert!((total(&s) - expect).abs() / expect < 0.05, "{}", total(&s));
        let f = s.feather(2, 64, 32);
        assert!((total(&f) - total(&s)).abs() / total(&s) < 0.01);
    }
}
