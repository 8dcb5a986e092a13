//! Max pooling without padding (floor mode), as AlexNet (3x3, stride 2) and VGG16 (2x2,
//! stride 2) use it.

use super::Map;

pub(crate) fn max_pool(x: &Map, k: usize, stride: usize) -> Map {
    assert!(
        x.h >= k && x.w >= k,
        "max pool: {}x{} input is smaller than {k}x{k}",
        x.h,
        x.w
    );
    let oh = (x.h - k) / stride + 1;
    let ow = (x.w - k) / stride + 1;
    let mut data = Vec::with_capacity(oh * ow * x.c);
    for oy in 0..oh {
        for ox in 0..ow {
            let start = data.len();
            data.extend_from_slice(x.pixel(oy * stride, ox * stride));
            let best = &mut data[start..];
            for ky in 0..k {
                for kx in 0..k {
                    let v = x.pixel(oy * stride + ky, ox * stride + kx);
                    best.iter_mut().zip(v).for_each(|(b, &v)| *b = b.max(v));
                }
            }
        }
    }
    Map::new(oh, ow, x.c, data)
}

#[cfg(test)]
mod tests {
    use super::super::testing::values;
    use super::*;

    #[test]
    fn takes_the_largest_value_of_each_window() {
        let x = Map::new(7, 6, 3, values(7 * 6 * 3, 5));
        let y = max_pool(&x, 3, 2);
        assert_eq!((y.h, y.w, y.c), (3, 2, 3));
        for oy in 0..3 {
            for ox in 0..2 {
                for c in 0..3 {
                    let mut m = f32::MIN;
                    for ky in 0..3 {
                        for kx in 0..3 {
                            m = m.max(x.pixel(2 * oy + ky, 2 * ox + kx)[c]);
                        }
                    }
                    assert_eq!(y.pixel(oy, ox)[c], m);
                }
            }
        }
    }
}
