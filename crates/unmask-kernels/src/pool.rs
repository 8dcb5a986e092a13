//! 2x2 max pooling in PyTorch's floor mode and in TensorFlow's 'same' padding, on our kernel
//! (`crate::max_pool2d`); shared by the LPIPS/VGG backbones and face-api's nets.

use crate::KernelBackend;
use burn::tensor::Tensor;

/// 2x2 max pool, stride 2; an odd last row/column is dropped (PyTorch's floor mode).
pub fn max_pool_2x2<B: KernelBackend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    crate::max_pool2d(x, [2, 2], [2, 2])
}

/// 2x2 max pool, stride 2, TensorFlow's 'same' padding: an odd map gets one more output cell,
/// whose window holds only the last row/column (repeating it changes no maximum).
pub fn max_pool_2x2_same<B: KernelBackend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let x = if h % 2 == 1 {
        Tensor::cat(vec![x.clone(), x.narrow(2, h - 1, 1)], 2)
    } else {
        x
    };
    let x = if w % 2 == 1 {
        Tensor::cat(vec![x.clone(), x.narrow(3, w - 1, 1)], 3)
    } else {
        x
    };
    let _ = (n, c);
    max_pool_2x2(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::module::max_pool2d;
    use burn::tensor::Distribution;

    type B = burn::backend::Flex;

    #[test]
    fn pools_equal_burns_kernel() {
        let device = Default::default();
        for (h, w) in [(9, 9), (10, 7), (63, 64)] {
            let x = Tensor::<B, 4>::random([2, 3, h, w], Distribution::Normal(0.0, 1.0), &device);
            let same = |a: Tensor<B, 4>, b: Tensor<B, 4>| {
                assert_eq!(a.dims(), b.dims());
                assert_eq!(
                    a.into_data().to_vec::<f32>().unwrap(),
                    b.into_data().to_vec::<f32>().unwrap()
                );
            };
            same(
                max_pool_2x2(x.clone()),
                max_pool2d(x.clone(), [2, 2], [2, 2], [0, 0], [1, 1], false),
            );
            same(
                max_pool_2x2_same(x.clone()),
                max_pool2d(x.clone(), [2, 2], [2, 2], [0, 0], [1, 1], true),
            );
        }
    }
}
