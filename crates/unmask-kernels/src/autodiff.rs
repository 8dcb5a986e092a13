//! [`KernelBackend`] for `Autodiff<B>`: the forward runs `B`'s op, and a custom backward step
//! (burn's `Backward` trait) computes the gradients with `B`'s gradient methods, so on Flex
//! both directions run our kernels. Shapes as on [`KernelBackend`].

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions, FloatTensor};

use crate::{KernelBackend, Pool};

/// The gradients of a convolution or transposed convolution, registered for the parents
/// that need them. `parents` are x, weight and (if the op has one) bias.
fn register_conv_grads<B: KernelBackend, const N: usize>(
    ops: Ops<ConvState, N>,
    grads: &mut Gradients,
    checkpointer: &mut Checkpointer,
) {
    let grad = grads.consume::<B>(&ops.node);
    let ConvState {
        x,
        weight,
        bias,
        op,
    } = ops.state;
    let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
    let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight);
    let bias = bias.map(|id| checkpointer.retrieve_node_output::<FloatTensor<B>>(id));
    let parents = ops.parents;
    if let (Some(Some(node)), Some(bias)) = (parents.get(2), bias) {
        let g = match &op {
            ConvOp::Conv(_) => B::conv2d_bias_grad(x.clone(), bias, grad.clone()),
            ConvOp::Transpose(_) => B::conv_transpose2d_bias_grad(x.clone(), bias, grad.clone()),
        };
        grads.register::<B>(node.id, g);
    }
    if let Some(node) = &parents[1] {
        let g = match &op {
            ConvOp::Conv(o) => {
                B::conv2d_weight_grad(x.clone(), weight.clone(), grad.clone(), o.clone())
            }
            ConvOp::Transpose(o) => {
                B::conv_transpose2d_weight_grad(x.clone(), weight.clone(), grad.clone(), o.clone())
            }
        };
        grads.register::<B>(node.id, g);
    }
    if let Some(node) = &parents[0] {
        let g = match op {
            ConvOp::Conv(o) => B::conv2d_x_grad(x, weight, grad, o),
            ConvOp::Transpose(o) => B::conv_transpose2d_x_grad(weight, grad, o),
        };
        grads.register::<B>(node.id, g);
    }
}

#[derive(Debug, Clone)]
enum ConvOp {
    Conv(ConvOptions<2>),
    Transpose(ConvTransposeOptions<2>),
}

/// What a convolution's backward step reads: the checkpointed inputs and the op.
#[derive(Debug, Clone)]
struct ConvState {
    x: NodeId,
    weight: NodeId,
    bias: Option<NodeId>,
    op: ConvOp,
}

#[derive(Debug)]
struct ConvWithBias;

impl<B: KernelBackend> Backward<B, 3> for ConvWithBias {
    type State = ConvState;

    fn backward(
        self,
        ops: Ops<ConvState, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        register_conv_grads::<B, 3>(ops, grads, checkpointer)
    }
}

#[derive(Debug)]
struct ConvNoBias;

impl<B: KernelBackend> Backward<B, 2> for ConvNoBias {
    type State = ConvState;

    fn backward(
        self,
        ops: Ops<ConvState, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        register_conv_grads::<B, 2>(ops, grads, checkpointer)
    }
}

/// Records a convolution (or transposed convolution) and runs `B`'s forward.
fn conv_node<B: KernelBackend, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    bias: Option<FloatTensor<Autodiff<B, C>>>,
    op: ConvOp,
) -> FloatTensor<Autodiff<B, C>> {
    let run = |x, w, b: Option<FloatTensor<B>>, op: ConvOp| match op {
        ConvOp::Conv(o) => B::conv2d_op(x, w, b, o),
        ConvOp::Transpose(o) => B::conv_transpose2d_op(x, w, b, o),
    };
    match bias {
        Some(bias) => match ConvWithBias
            .prepare::<C>([x.node.clone(), weight.node.clone(), bias.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = ConvState {
                    x: prep.checkpoint(&x),
                    weight: prep.checkpoint(&weight),
                    bias: Some(prep.checkpoint(&bias)),
                    op: op.clone(),
                };
                prep.finish(
                    state,
                    run(x.primitive, weight.primitive, Some(bias.primitive), op),
                )
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(run(x.primitive, weight.primitive, Some(bias.primitive), op))
            }
        },
        None => match ConvNoBias
            .prepare::<C>([x.node.clone(), weight.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = ConvState {
                    x: prep.checkpoint(&x),
                    weight: prep.checkpoint(&weight),
                    bias: None,
                    op: op.clone(),
                };
                prep.finish(state, run(x.primitive, weight.primitive, None, op))
            }
            OpsKind::UnTracked(prep) => prep.finish(run(x.primitive, weight.primitive, None, op)),
        },
    }
}

/// One-input ops whose gradient needs the input: the pools and the upsampling.
#[derive(Debug, Clone, Copy)]
enum Resample {
    Avg(Pool),
    Max(Pool),
    Up2x,
}

#[derive(Debug)]
struct ResampleBackward;

impl<B: KernelBackend> Backward<B, 1> for ResampleBackward {
    type State = (NodeId, Resample);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [Some(node)] = ops.parents else {
            return;
        };
        let grad = grads.consume::<B>(&ops.node);
        let (x_id, op) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_id);
        let dx = match op {
            Resample::Avg(p) => B::avg_pool2d_grad(x, grad, p),
            Resample::Max(p) => B::max_pool2d_grad(x, grad, p),
            Resample::Up2x => B::upsample2x_grad(x, grad),
        };
        grads.register::<B>(node.id, dx);
    }
}

fn resample<B: KernelBackend, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    op: Resample,
) -> FloatTensor<Autodiff<B, C>> {
    let run = |x: FloatTensor<B>| match op {
        Resample::Avg(p) => B::avg_pool2d_op(x, p),
        Resample::Max(p) => B::max_pool2d_op(x, p),
        Resample::Up2x => B::upsample2x_op(x),
    };
    match ResampleBackward
        .prepare::<C>([x.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let state = (prep.checkpoint(&x), op);
            prep.finish(state, run(x.primitive))
        }
        OpsKind::UnTracked(prep) => prep.finish(run(x.primitive)),
    }
}

impl<B: KernelBackend, C: CheckpointStrategy> KernelBackend for Autodiff<B, C> {
    fn conv2d_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        conv_node::<B, C>(x, weight, bias, ConvOp::Conv(options))
    }

    fn conv_transpose2d_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        conv_node::<B, C>(x, weight, bias, ConvOp::Transpose(options))
    }

    fn avg_pool2d_op(x: FloatTensor<Self>, pool: Pool) -> FloatTensor<Self> {
        resample::<B, C>(x, Resample::Avg(pool))
    }

    fn max_pool2d_op(x: FloatTensor<Self>, pool: Pool) -> FloatTensor<Self> {
        resample::<B, C>(x, Resample::Max(pool))
    }

    fn upsample2x_op(x: FloatTensor<Self>) -> FloatTensor<Self> {
        resample::<B, C>(x, Resample::Up2x)
    }
}
