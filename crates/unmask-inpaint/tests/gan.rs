//! The GAN's layers and training on tiny inputs: imputation, compositing, the mask update,
//! gradients, overfitting one batch, resume, inference on any size.

use burn::backend::{Autodiff, Flex};
use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::conv::Conv2dConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, ElementConversion, Tensor, TensorData};
use std::path::Path;
use unmask_inpaint::layers::{impute, update_mask, Activation, ConvKind, NormKind};
use unmask_inpaint::loss::weighted_l1;
use unmask_inpaint::training::{CHECKPOINT_DIR, STEP_LOG};
use unmask_inpaint::{
    train, GeneratorConfig, InpaintNet, Inpainter, TrainControl, TrainInpaintConfig, TrainInputs,
};

type B = Flex;
type A = Autodiff<Flex>;

fn tiny(conv: ConvKind) -> GeneratorConfig {
    GeneratorConfig {
        conv,
        width: 8,
        image_size: 32,
        ..Default::default()
    }
}

/// A face-like hole: a box over the lower middle of the image.
fn hole<Bk: burn::tensor::backend::Backend>(n: usize, s: usize) -> Tensor<Bk, 4> {
    let v: Vec<f32> = (0..n * s * s)
        .map(|i| {
            let (y, x) = ((i % (s * s)) / s, i % s);
            if y >= s / 2 && y < s - 2 && x >= s / 4 && x < 3 * s / 4 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    Tensor::from_data(TensorData::new(v, [n, 1, s, s]), &Default::default())
}

/// Uniform noise in [0, 1) from its own generator: a draw from the backend's would move the
/// weights of a training that another test seeds at the same moment.
fn images<Bk: burn::tensor::backend::Backend>(n: usize, s: usize) -> Tensor<Bk, 4> {
    let v: Vec<f32> = (0..n * 3 * s * s)
        .map(|i| unmask_core::rng::sample_unit(s as u64, "test-images", i as u64) as f32)
        .collect();
    Tensor::from_data(TensorData::new(v, [n, 3, s, s]), &Default::default())
}

/// `config`'s network with weights seeded under the process's lock (`seeded`), for the same
/// reason.
fn net_of<Bk: unmask_kernels::KernelBackend>(
    config: &GeneratorConfig,
    seed: u64,
) -> InpaintNet<Bk> {
    let device = Default::default();
    unmask_train::seed::seeded::<Bk, _>(&device, seed, || config.init(&device))
}

#[test]
fn a_fully_known_mask_makes_imputation_a_no_op() {
    let device = Default::default();
    let dw = Conv2dConfig::new([4, 4], [5, 5])
        .with_groups(4)
        .with_padding(burn::nn::PaddingConfig2d::Explicit(2, 2, 2, 2))
        .init::<B>(&device);
    let x = Tensor::<B, 4>::random([2, 4, 16, 16], Distribution::Normal(0.0, 1.0), &device);
    let ones = Tensor::<B, 4>::ones([2, 1, 16, 16], &device);
    let filled = impute(&dw, x.clone(), ones, 5);
    assert_eq!(
        filled.into_data().to_vec::<f32>().unwrap(),
        x.into_data().to_vec::<f32>().unwrap()
    );
}

#[test]
fn the_mask_update_stays_in_range_and_grows() {
    let known = hole::<B>(1, 32).neg().add_scalar(1.0);
    let mut m = known;
    for _ in 0..4 {
        let next = update_mask(m.clone(), 3, 1);
        let (a, b) = (
            m.clone().into_data().to_vec::<f32>().unwrap(),
            next.clone().into_data().to_vec::<f32>().unwrap(),
        );
        assert!(b.iter().all(|v| (0.0..=1.0).contains(v)));
        // Every pixel that was (partly) known stays so; the known area grows.
        assert!(a.iter().zip(&b).all(|(x, y)| *x <= 0.0 || *y > 0.0));
        assert!(b.iter().filter(|v| **v > 0.5).count() >= a.iter().filter(|v| **v > 0.5).count());
        m = next;
    }
}

#[test]
fn known_pixels_pass_through_bit_identical() {
    for kind in [ConvKind::Imputed, ConvKind::Gated, ConvKind::Plain] {
        let net: InpaintNet<B> = net_of(&tiny(kind), 1);
        let (x, h) = (images::<B>(2, 32), hole::<B>(2, 32));
        let fin = net
            .forward(x.clone(), h.clone(), None)
            .fin
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let x = x.into_data().to_vec::<f32>().unwrap();
        let h = h.into_data().to_vec::<f32>().unwrap();
        let plane = 32 * 32;
        for (i, (f, o)) in fin.iter().zip(&x).enumerate() {
            let pixel = (i / (3 * plane)) * plane + i % plane;
            if h[pixel] == 0.0 {
                assert_eq!(
                    f.to_bits(),
                    o.to_bits(),
                    "{kind:?}: known pixel {i} changed"
                );
            }
        }
    }
}

/// Records, by module path, which parameters received a non-zero gradient.
struct GradCheck<'a, Bk: AutodiffBackend> {
    grads: &'a <Bk as AutodiffBackend>::Gradients,
    path: Vec<String>,
    missing: Vec<String>,
    reached: Vec<String>,
}

impl<Bk: AutodiffBackend> ModuleVisitor<Bk> for GradCheck<'_, Bk> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<Bk, D>>) {
        let path = self.path.join(".");
        let ok = param
            .val()
            .grad(self.grads)
            .is_some_and(|g| g.abs().sum().into_scalar().elem::<f32>() > 0.0);
        if ok {
            self.reached.push(path);
        } else {
            self.missing.push(path);
        }
    }
}

#[test]
fn gradients_reach_every_layer() {
    // Autodiff outside a training: wait for the process's turn (unmask_train::autodiff).
    let _turn = unmask_train::autodiff::exclusive();
    for kind in [ConvKind::Imputed, ConvKind::Gated] {
        let config = GeneratorConfig {
            activation: Activation::LeakyRelu,
            norm: NormKind::Layer,
            decoder_norm: true,
            ..tiny(kind)
        };
        let net: InpaintNet<A> = net_of(&config, 2);
        let disc = unmask_inpaint::discriminator::DiscriminatorConfig {
            layers: 3,
            width: 4,
        }
        .init::<A>(&Default::default());
        let (x, h) = (images::<A>(2, 32), hole::<A>(2, 32));
        let out = net.forward(x.clone(), h.clone(), None);
        let loss = weighted_l1(out.coarse, x.clone(), h.clone(), 5.0)
            + weighted_l1(out.refine, x.clone(), h.clone(), 5.0)
            + disc.forward(out.fin, h).mean();
        let grads = loss.backward();
        let mut check = GradCheck::<A> {
            grads: &grads,
            path: Vec::new(),
            missing: Vec::new(),
            reached: Vec::new(),
        };
        net.visit(&mut check);
        disc.visit(&mut check);
        assert!(
            check.reached.len() > 20,
            "{kind:?}: only {} parameters reached",
            check.reached.len()
        );
        // An imputation whose input mask is already fully known multiplies its estimate by
        // 1 - m = 0 (the no-op of the first test), so only those may go without a gradient;
        // the first layers, which see the hole, must learn.
        // The spectral norm's `u` is power-iteration state, not a learned weight.
        let inert: Vec<&String> = check
            .missing
            .iter()
            .filter(|p| !p.contains("impute") && !p.ends_with(".u"))
            .collect();
        assert!(inert.is_empty(), "{kind:?}: no gradient for {inert:?}");
        if kind == ConvKind::Imputed {
            assert!(
                check
                    .reached
                    .iter()
                    .any(|p| p.contains("coarse") && p.contains("impute")),
                "{:?}",
                check.missing
            );
        }
    }
}

#[test]
fn a_tiny_generator_overfits_one_batch() {
    // Autodiff outside a training: wait for the process's turn (unmask_train::autodiff).
    let _turn = unmask_train::autodiff::exclusive();
    let device = Default::default();
    let mut net: InpaintNet<A> =
        unmask_train::seed::seeded::<A, _>(&device, 3, || tiny(ConvKind::Imputed).init(&device));
    let mut optim = AdamConfig::new().init::<A, InpaintNet<A>>();
    // Smooth targets: a gradient per image, so the hole is predictable from its surroundings.
    let ramp: Vec<f32> = (0..2 * 3 * 32 * 32)
        .map(|i| ((i % 32) as f32 / 31.0 + (i / (32 * 32 * 3)) as f32 * 0.3) / 1.3)
        .collect();
    let x = Tensor::<A, 4>::from_data(TensorData::new(ramp, [2, 3, 32, 32]), &device);
    let h = hole::<A>(2, 32);
    let hole_l1 = |net: &InpaintNet<A>| {
        let fin = net.forward(x.clone(), h.clone(), None).fin;
        unmask_metrics::to_vec(unmask_metrics::hole_l1(
            fin.inner(),
            x.clone().inner(),
            h.clone().inner(),
        ))
        .iter()
        .sum::<f32>()
            / 2.0
    };
    let before = hole_l1(&net);
    for _ in 0..60 {
        let out = net.forward(x.clone(), h.clone(), None);
        let loss = weighted_l1(out.coarse, x.clone(), h.clone(), 5.0)
            + weighted_l1(out.refine, x.clone(), h.clone(), 5.0);
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(2e-3, net, grads);
    }
    let after = hole_l1(&net);
    assert!(after < before * 0.5, "hole L1 {before} -> {after}");
}

/// Faces and masks at 32 px; returns the masks folder.
fn dataset(dir: &Path, count: usize) -> std::path::PathBuf {
    unmask_testkit::small_pairs(dir, count, 32, 0.3)
}

fn tiny_training() -> TrainInpaintConfig {
    let mut config = TrainInpaintConfig {
        generator: tiny(ConvKind::Imputed),
        epochs: 100,
        max_steps: Some(4),
        batch_size: 2,
        max_train_samples: Some(4),
        max_val_samples: Some(2),
        checkpoint_every: 2,
        sample_every: 2,
        sample_count: 2,
        ..Default::default()
    };
    config.discriminator.layers = 3;
    config.discriminator.width = 4;
    config.losses.perceptual = 0.0;
    config
}

/// The refine output of `inp` on `x` (random, drawn once by the caller) with a fixed hole.
fn refine_of(x: &Tensor<B, 4>, inp: Inpainter<B>) -> Vec<f32> {
    inp.net()
        .forward(x.clone(), hole::<B>(1, 32), None)
        .refine
        .into_data()
        .to_vec::<f32>()
        .unwrap()
}

/// Trains `config` straight through into `straight`, and into `resumed` stopped after step 3
/// and continued (from the checkpoint of step 2).
struct StraightAndResumed {
    tmp: tempfile::TempDir,
    data: std::path::PathBuf,
    straight: std::path::PathBuf,
    resumed: std::path::PathBuf,
}

fn train_straight_and_resumed(config: &TrainInpaintConfig) -> StraightAndResumed {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path(), 10);
    let inputs = TrainInputs {
        data: &data,
        segmenter: None,
    };
    let straight = tmp.path().join("straight");
    train(config, &inputs, &straight, &TrainControl::default()).unwrap();
    let resumed = tmp.path().join("resumed");
    let stop = TrainControl {
        stop_after: Some(3),
        ..Default::default()
    };
    train(config, &inputs, &resumed, &stop).unwrap();
    let outcome = train(config, &inputs, &resumed, &TrainControl::default()).unwrap();
    assert_eq!(outcome.run.resumed_from, Some(2));
    StraightAndResumed {
        tmp,
        data,
        straight,
        resumed,
    }
}

#[test]
fn resumed_training_equals_an_uninterrupted_run() {
    // `_tmp` keeps the folders until the end of the test.
    let StraightAndResumed {
        tmp: _tmp,
        straight,
        resumed,
        ..
    } = train_straight_and_resumed(&tiny_training());
    assert!(straight.join("samples/step-0000004.png").is_file());

    let x = images::<B>(1, 32);
    let out = |dir: &Path| {
        refine_of(
            &x,
            Inpainter::<B>::from_checkpoint(dir, &Default::default()).unwrap(),
        )
    };
    assert!(out(&straight) == out(&resumed), "resumed generator differs");
    let log =
        |dir: &Path| unmask_train::log::MetricLog::load(&dir.join(STEP_LOG), u64::MAX).unwrap();
    assert_eq!(
        log(&straight).column("discriminator"),
        log(&resumed).column("discriminator")
    );
    assert!(resumed
        .join(CHECKPOINT_DIR)
        .join("discriminator_optimizer.mpk")
        .is_file());
}

#[test]
fn the_weight_average_resumes_exactly_and_is_what_best_holds() {
    let config = TrainInpaintConfig {
        ema_images: Some(4.0),
        ema_rampup: None,
        lr_schedule: unmask_train::LrSchedule::Cosine,
        ..tiny_training()
    };
    let StraightAndResumed {
        tmp: _tmp,
        data,
        straight,
        resumed,
    } = train_straight_and_resumed(&config);
    assert!(straight
        .join(CHECKPOINT_DIR)
        .join("generator_ema.mpk")
        .is_file());

    let x = images::<B>(1, 32);
    let best = |dir: &Path| refine_of(&x, Inpainter::<B>::load(dir, &Default::default()).unwrap());
    let last = |dir: &Path| {
        refine_of(
            &x,
            Inpainter::<B>::from_checkpoint(dir, &Default::default()).unwrap(),
        )
    };
    assert!(best(&straight) == best(&resumed), "resumed average differs");
    assert!(
        last(&straight) == last(&resumed),
        "resumed generator differs"
    );
    // best/ holds the average, not the last step's weights.
    assert!(best(&straight) != last(&straight));

    // A cosine schedule is laid over the run's length: a longer run is another run.
    let longer = TrainInpaintConfig {
        max_steps: Some(6),
        ..config
    };
    let inputs = TrainInputs {
        data: &data,
        segmenter: None,
    };
    let err = train(&longer, &inputs, &straight, &TrainControl::default()).unwrap_err();
    assert!(format!("{err:#}").contains("max_steps"), "{err:#}");
}

/// A GAN with `generator` trained one step on `data` into `out`, loaded for inference.
fn trained_one_step(generator: GeneratorConfig, data: &Path, out: &Path) -> Inpainter<B> {
    let config = TrainInpaintConfig {
        generator,
        max_steps: Some(1),
        ..tiny_training()
    };
    let inputs = TrainInputs {
        data,
        segmenter: None,
    };
    train(&config, &inputs, out, &TrainControl::default()).unwrap();
    Inpainter::<B>::load(out, &Default::default()).unwrap()
}

#[test]
fn inference_keeps_known_pixels_and_handles_edge_masks() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path(), 8);
    let out = tmp.path().join("gan");
    let inp = trained_one_step(tiny(ConvKind::Imputed), &data, &out);

    let img = image::RgbImage::from_fn(50, 40, |x, y| image::Rgb([x as u8 * 5, y as u8 * 6, 90]));
    let mask = image::GrayImage::from_fn(50, 40, |x, y| {
        image::Luma([if (15..35).contains(&x) && y > 20 {
            255
        } else {
            0
        }])
    });
    let (res, report) = inp.inpaint(&img, &mask, None).unwrap();
    assert_eq!(res.dimensions(), (50, 40));
    // The filled hole is the mask grown by hole_dilation of the longer side.
    let pixels = unmask_inpaint::hole::dilation_pixels(inp.info().generator.hole_dilation, 50);
    assert!(pixels >= 1);
    let grown = unmask_inpaint::hole::grow_mask(&mask, pixels);
    assert_eq!(report.filled_hole, grown);
    for ((a, b), m) in res.pixels().zip(img.pixels()).zip(grown.pixels()) {
        if m.0[0] == 0 {
            assert_eq!(a, b);
        }
    }
    assert!(report.hole_fraction > 0.1 && report.warning.is_none());

    let empty = image::GrayImage::new(50, 40);
    let (same, report) = inp.inpaint(&img, &empty, None).unwrap();
    assert_eq!(same, img);
    assert!(report.warning.is_some());
    let full = image::GrayImage::from_pixel(50, 40, image::Luma([255]));
    let (_, report) = inp.inpaint(&img, &full, None).unwrap();
    assert!(report.warning.unwrap().contains("whole image"));

    let other = GeneratorConfig {
        width: 16,
        ..tiny(ConvKind::Imputed)
    };
    let err = Inpainter::<B>::load_expecting(&out, &other, &Default::default())
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("`width`"), "{err:#}");
}

#[test]
fn a_guided_gan_draws_along_the_guide_and_needs_the_landmarks() {
    let guided = GeneratorConfig {
        landmark_guide: true,
        ..tiny(ConvKind::Imputed)
    };
    let net: InpaintNet<B> = net_of(&guided, 4);
    assert!(net.needs_guide());
    let (x, h) = (images::<B>(1, 32), hole::<B>(1, 32));
    let guide = |v: f32| Tensor::<B, 4>::full([1, 2, 32, 32], v, &Default::default());
    let fin = |g| net.forward(x.clone(), h.clone(), Some(g)).fin;
    let (a, b) = (fin(guide(0.0)), fin(guide(1.0)));
    // Known pixels stay the input's; the hole changes with the guide.
    let known = h.clone().neg().add_scalar(1.0);
    let outside: f32 = ((a.clone() - b.clone()).abs() * known)
        .sum()
        .into_scalar()
        .elem();
    let inside: f32 = ((a - b).abs() * h.clone()).sum().into_scalar().elem();
    assert_eq!(outside, 0.0);
    assert!(inside > 1e-3, "{inside}");

    // Trained on pairs with landmarks, loaded, it refuses to fill without them.
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path(), 8);
    let pairs = unmask_masks::read_pairs(&data).unwrap();
    assert!(pairs.iter().all(|p| p.landmarks.is_some()));
    let batch =
        unmask_inpaint::data::eval_tensors::<B>(&pairs[..2], 32, &Default::default()).unwrap();
    let g = batch.guide.expect("pairs with landmarks have a guide");
    assert_eq!(g.dims(), [2, 2, 32, 32]);
    let lit: f32 = g.sum().into_scalar().elem();
    assert!(lit > 10.0, "{lit}");
    let inp = trained_one_step(guided, &data, &tmp.path().join("gan"));
    let img = image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([x as u8 * 5, y as u8 * 6, 90]));
    let mask =
        image::GrayImage::from_fn(32, 32, |_, y| image::Luma([if y > 18 { 255 } else { 0 }]));
    let err = inp.inpaint(&img, &mask, None).unwrap_err().to_string();
    assert!(err.contains("landmarks"), "{err}");
    let points = pairs[0].landmarks.unwrap().0;
    let (res, _) = inp.inpaint(&img, &mask, Some(&points)).unwrap();
    assert_eq!(res.dimensions(), (32, 32));
}
