//! StyleGAN2's pieces checked against their formulas on small cases worked by hand, and its
//! training: overfitting a few faces, and resume equal to an uninterrupted run.

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use std::path::Path;
use unmask_stylegan::discriminator::minibatch_stddev;
use unmask_stylegan::layers::{ModulatedConv, ModulatedKind};
use unmask_stylegan::loss::r1;
use unmask_stylegan::model::normalize_latent;
use unmask_stylegan::training::{ema_from_checkpoint, STEP_LOG};
use unmask_stylegan::{GeneratorConfig, StyleGan, TrainControl, TrainStyleGanConfig};

type B = Flex;
type A = Autodiff<Flex>;

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

fn values<const D: usize, Bk: burn::tensor::backend::Backend>(t: Tensor<Bk, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec::<f32>().unwrap()
}

/// A 3x3 modulated conv (2 in, 2 out) whose styles are set through the affine bias, computed
/// by the formula with loops: `w'_oik = s_i w_oik g / sqrt(sum (s_i w_oik g)^2 + 1e-8)`,
/// zero-padded convolution, then `lrelu(.,0.2) * sqrt 2`.
#[test]
fn modulation_and_demodulation_follow_the_formula() {
    let device = Default::default();
    let (cin, cout, k, s) = (2, 2, 3, 4);
    let mut conv = ModulatedConv::<B>::new(cin, cout, 3, ModulatedKind::feature(false), &device);
    let styles = [[0.5f32, 2.0], [-1.0, 0.25]];
    // Each sample's styles are the first two entries of its `w`: the affine layer picks them
    // (weights 1 there, 0 elsewhere, bias 0).
    let mut affine = vec![0f32; cin * 3];
    affine[0] = 1.0;
    affine[3 + 1] = 1.0;
    // EqualLinear scales by 1/sqrt(in) = 1/sqrt(3): undo it.
    let root3 = 3f32.sqrt();
    conv.affine.weight =
        Param::from_tensor(tensor(affine.iter().map(|v| v * root3).collect(), [cin, 3]));
    conv.affine.bias = Param::from_tensor(tensor(vec![0.0; cin], [cin]));
    let weights: Vec<f32> = (0..cout * cin * k * k)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0)
        .collect();
    conv.weight = Param::from_tensor(tensor(weights.clone(), [cout, cin, k, k]));
    let x: Vec<f32> = (0..2 * cin * s * s)
        .map(|i| ((i * 5 % 13) as f32 - 6.0) / 6.0)
        .collect();
    let w: Vec<f32> = styles.iter().flat_map(|st| [st[0], st[1], 9.0]).collect();
    let out = values(conv.forward(tensor(x.clone(), [2, cin, s, s]), tensor(w, [2, 3]), None));

    let gain = 1.0 / ((cin * k * k) as f64).sqrt();
    for n in 0..2 {
        for o in 0..cout {
            let wmod = |i: usize, ky: usize, kx: usize| {
                styles[n][i] as f64 * weights[((o * cin + i) * k + ky) * k + kx] as f64 * gain
            };
            let mut energy = 0.0;
            for i in 0..cin {
                for ky in 0..k {
                    for kx in 0..k {
                        energy += wmod(i, ky, kx).powi(2);
                    }
                }
            }
            let demod = 1.0 / (energy + 1e-8).sqrt();
            for y in 0..s {
                for xx in 0..s {
                    let mut acc = 0.0;
                    for i in 0..cin {
                        for ky in 0..k {
                            for kx in 0..k {
                                let (iy, ix) =
                                    (y as i64 + ky as i64 - 1, xx as i64 + kx as i64 - 1);
                                if iy < 0 || ix < 0 || iy >= s as i64 || ix >= s as i64 {
                                    continue;
                                }
                                let v = x[((n * cin + i) * s + iy as usize) * s + ix as usize];
                                acc += v as f64 * wmod(i, ky, kx) * demod;
                            }
                        }
                    }
                    let expected =
                        if acc > 0.0 { acc } else { 0.2 * acc } * std::f64::consts::SQRT_2;
                    let got = out[((n * cout + o) * s + y) * s + xx] as f64;
                    assert!(
                        (got - expected).abs() < 1e-4,
                        "sample {n} channel {o} at ({y}, {xx}): {got} vs {expected}"
                    );
                }
            }
        }
    }
}

/// After demodulation every output channel's effective weights have unit norm.
#[test]
fn demodulated_weights_have_unit_norm() {
    let style = tensor(vec![0.3, 1.7, -2.0, 0.9, 1.1, 0.01], [2, 3]);
    let weight = tensor(
        (0..4 * 3 * 9).map(|i| (i as f32 * 0.37).sin()).collect(),
        [4, 3, 3, 3],
    );
    let d = values(ModulatedConv::<B>::demodulation(
        style.clone(),
        weight.clone(),
    ));
    let (s, wv) = (values(style), values(weight));
    for n in 0..2 {
        for o in 0..4 {
            let mut norm = 0.0f64;
            for i in 0..3 {
                for t in 0..9 {
                    let v =
                        s[n * 3 + i] as f64 * wv[(o * 3 + i) * 9 + t] as f64 * d[n * 4 + o] as f64;
                    norm += v * v;
                }
            }
            assert!(
                (norm - 1.0).abs() < 1e-4,
                "sample {n} channel {o}: norm {norm}"
            );
        }
    }
}

fn tiny_generator(size: usize) -> GeneratorConfig {
    GeneratorConfig {
        image_size: size,
        z_dim: 16,
        w_dim: 12,
        mapping_layers: 2,
        channel_base: 64,
        channel_max: 8,
        ..Default::default()
    }
}

#[test]
fn the_mapping_gives_one_w_per_sample_and_w_plus_one_per_layer() {
    let device = Default::default();
    let config = tiny_generator(32);
    let g = unmask_train::seed::seeded::<B, _>(&device, 1, || config.init::<B>(&device));
    // 32 px: 4x4 (conv, toRGB) and three doublings of two convs: 2 log2(32) - 2 = 8.
    assert_eq!(config.num_ws(), 8);
    assert_eq!(g.num_ws(), 8);
    assert_eq!(config.noise_sides(), vec![4, 8, 8, 16, 16, 32, 32]);
    let z: Vec<f32> = (0..3 * 16).map(|i| (i as f32 * 0.71).cos()).collect();
    let w = g.map_latent(tensor(z.clone(), [3, 16]));
    assert_eq!(w.dims(), [3, 12]);
    // The latent is normalised first: scaling z changes nothing.
    let w_scaled = g.map_latent(tensor(z.iter().map(|v| v * 7.5).collect(), [3, 16]));
    let (a, b) = (values(w.clone()), values(w_scaled));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-4));
    let unit = values(normalize_latent(tensor(z, [3, 16])).square().mean_dim(1));
    assert!(unit.iter().all(|v| (v - 1.0).abs() < 1e-4), "{unit:?}");
    let ws = g.broadcast(w);
    assert_eq!(ws.dims(), [3, 8, 12]);
    let noise: Vec<Tensor<B, 4>> = config
        .noise_sides()
        .iter()
        .map(|&s| Tensor::zeros([3, 1, s, s], &device))
        .collect();
    assert_eq!(g.synthesis(ws, &noise).dims(), [3, 3, 32, 32]);
}

/// `D(x) = w sum x^2` per image: `grad_x D = 2 w x`, so R1 = `mean_i 4 w^2 sum x_i^2` and its
/// derivative in `w` is `mean_i 8 w sum x_i^2`.
#[test]
fn r1_is_the_squared_gradient_norm_and_its_weight_gradient() {
    // Autodiff outside a training: wait for the process's turn (unmask_train::autodiff).
    let _turn = unmask_train::autodiff::exclusive();
    let device = Default::default();
    let w = Tensor::<A, 1>::from_data(TensorData::new(vec![0.7f32], [1]), &device).require_grad();
    let x: Vec<f32> = (0..2 * 3 * 4 * 4)
        .map(|i| ((i % 9) as f32 - 4.0) / 5.0)
        .collect();
    let sums: Vec<f64> = x
        .chunks(48)
        .map(|c| c.iter().map(|v| (*v as f64).powi(2)).sum())
        .collect();
    let real = Tensor::<A, 4>::from_data(TensorData::new(x, [2, 3, 4, 4]), &device);
    let d = |images: Tensor<A, 4>| {
        let per_image = images.square().reshape([2, 48]).sum_dim(1);
        per_image * w.clone().reshape([1, 1])
    };
    let out = r1(d, real);
    let wv = 0.7f64;
    let mean_sum = sums.iter().sum::<f64>() / 2.0;
    let expected = 4.0 * wv * wv * mean_sum;
    assert!(
        (out.penalty - expected).abs() < 1e-4 * expected,
        "{} vs {expected}",
        out.penalty
    );
    let grads = out.surrogate.backward();
    let dw: f32 = w.grad(&grads).unwrap().into_scalar().elem();
    let expected_dw = 8.0 * wv * mean_sum;
    assert!(
        (dw as f64 - expected_dw).abs() < 1e-3 * expected_dw,
        "d R1 / d w: {dw} vs {expected_dw}"
    );
}

#[test]
fn minibatch_stddev_adds_each_groups_deviation() {
    // 4 samples, group 2: samples 0 and 2 form a group, 1 and 3 the other.
    let x = tensor(
        vec![1.0, 3.0, 10.0, 10.0, 5.0, 7.0, 10.0, 14.0],
        [4, 2, 1, 1],
    );
    let out = values(minibatch_stddev(x, 2));
    // group {0, 2}: channel stds |1-5|/2 = 2 and |3-7|/2 = 2 -> 2; group {1, 3}: 0 and 2 -> 1.
    let stat: Vec<f32> = out.chunks(3).map(|c| c[2]).collect();
    let expected = [2.0, 1.0, 2.0, 1.0];
    for (s, e) in stat.iter().zip(expected) {
        assert!((s - e).abs() < 1e-3, "{stat:?}");
    }
}

fn tiny_training(size: usize) -> TrainStyleGanConfig {
    let mut config = TrainStyleGanConfig {
        generator: tiny_generator(size),
        epochs: 100,
        max_steps: Some(4),
        batch_size: 2,
        r1_every: 2,
        max_train_samples: Some(4),
        max_val_samples: Some(2),
        checkpoint_every: 2,
        sample_every: 2,
        sample_count: 4,
        ..Default::default()
    };
    config.discriminator.channel_base = 64;
    config.discriminator.channel_max = 8;
    config
}

#[test]
fn resumed_training_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = unmask_testkit::small_pairs(tmp.path(), 10, 32, 0.3);
    let config = tiny_training(16);
    let straight = tmp.path().join("straight");
    unmask_stylegan::train(&config, &data, &straight, &TrainControl::default()).unwrap();
    let resumed = tmp.path().join("resumed");
    let stop = TrainControl {
        stop_after: Some(3),
        ..Default::default()
    };
    unmask_stylegan::train(&config, &data, &resumed, &stop).unwrap();
    let outcome =
        unmask_stylegan::train(&config, &data, &resumed, &TrainControl::default()).unwrap();
    assert_eq!(outcome.run.resumed_from, Some(2));
    assert!(outcome.run.finished);
    assert!(straight.join("samples/step-0000004.png").is_file());

    let device = Default::default();
    let faces = |dir: &Path| {
        let (g, step) = ema_from_checkpoint::<B>(dir, &device).unwrap();
        assert_eq!(step, 4);
        let faces = unmask_stylegan::inference::faces_of(&g, &config.generator, 2, 5, 1.0, &device);
        faces
            .into_iter()
            .flat_map(|f| f.into_raw())
            .collect::<Vec<u8>>()
    };
    assert!(
        faces(&straight) == faces(&resumed),
        "resumed generator differs"
    );
    // The saved model is the average generator of the last epoch end.
    let saved = StyleGan::<B>::load(&straight, &device).unwrap();
    assert_eq!(saved.faces(3, 0, 0.7).len(), 3);
    let log =
        |dir: &Path| unmask_train::log::MetricLog::load(&dir.join(STEP_LOG), u64::MAX).unwrap();
    let (a, b) = (log(&straight), log(&resumed));
    assert_eq!(a.steps(), b.steps());
    assert_eq!(a.column("discriminator"), b.column("discriminator"));
    // R1 on steps 0 and 2 (every 2), nothing between.
    let r1 = a.column("r1").unwrap();
    assert!(
        r1[0] > 0.0 && r1[2] > 0.0 && r1[1] == 0.0 && r1[3] == 0.0,
        "{r1:?}"
    );
}

/// Mean absolute difference of each generated face to its nearest training face, and the
/// difference between the training faces, all in `[-1, 1]` units.
fn nearest_face_distances(generated: &[Vec<f32>], training: &[Vec<f32>]) -> (Vec<f64>, f64) {
    let l1 = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() as f64)
            .sum::<f64>()
            / a.len() as f64
    };
    let nearest = generated
        .iter()
        .map(|g| {
            training
                .iter()
                .map(|t| l1(g, t))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    (nearest, l1(&training[0], &training[1]))
}

/// Two faces, a thousand steps: the average generator's random faces move from noise to the
/// neighbourhood of the training faces, each nearer one of them than the two are to each
/// other. (An epoch is one step here, and each epoch end writes a checkpoint: most of the
/// test's time.)
#[test]
fn a_tiny_stylegan_overfits_two_faces() {
    let tmp = tempfile::tempdir().unwrap();
    let data = unmask_testkit::small_pairs(tmp.path(), 6, 32, 0.3);
    let mut config = tiny_training(16);
    config.max_train_samples = Some(2);
    config.max_steps = Some(OVERFIT_STEPS);
    config.epochs = OVERFIT_STEPS;
    config.checkpoint_every = OVERFIT_STEPS;
    config.sample_every = OVERFIT_STEPS;
    config.flips = false;
    config.r1_every = 4;
    config.ema_images = 20.0;
    let out = tmp.path().join("run");
    unmask_stylegan::train(&config, &data, &out, &TrainControl::default()).unwrap();

    let device = Default::default();
    let faces = unmask_stylegan::data::faces_of(&data, "train", Some(2)).unwrap();
    let batch = unmask_stylegan::data::make_batch(&faces, &[false, false], 16).unwrap();
    let real = values(batch.tensor::<B>(&device));
    let training: Vec<Vec<f32>> = real.chunks(real.len() / 2).map(<[f32]>::to_vec).collect();
    let generated_by = |g: &unmask_stylegan::Generator<B>| {
        let draw = unmask_stylegan::data::Latents::draw(
            9,
            "overfit",
            0,
            8,
            16,
            &config.generator.noise_sides(),
        );
        let out = values(g.generate(draw.z(&device), 1.0, &draw.noise(&device)));
        out.chunks(out.len() / 8)
            .map(<[f32]>::to_vec)
            .collect::<Vec<_>>()
    };
    let (g, _) = ema_from_checkpoint::<B>(&out, &device).unwrap();
    let (trained, apart) = nearest_face_distances(&generated_by(&g), &training);
    let untrained =
        unmask_train::seed::seeded::<B, _>(&device, 0, || config.generator.init(&device));
    let (before, _) = nearest_face_distances(&generated_by(&untrained), &training);
    eprintln!("faces apart {apart:.4}; nearest before {before:?}; after {trained:?}");
    let worst = trained.iter().cloned().fold(0.0, f64::max);
    assert!(
        worst < 0.75 * apart,
        "a face {worst:.4} from both, which are {apart:.4} apart"
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&trained) < 0.3 * mean(&before),
        "{trained:?} vs untrained {before:?}"
    );
}

const OVERFIT_STEPS: u64 = 1000;
