"""Load the push-pull authors' PyTorch checkpoints into the Keras models.

One mapping serves both the original `.pth.tar` files (read with
`torch.load(..., weights_only=True)`, torch needed) and the `.npz` copies of
their state dicts shipped in `keras_robust/applications/weights/` (no torch
needed). A Keras layer named like a PyTorch module path with "." replaced by
"_" (`layer1_0_conv1`) receives that module's tensors.
"""

import os

import keras
import numpy as np

from keras_robust.graph import leaf_layers

TORCH_SUFFIXES = (".pth", ".pth.tar", ".pt")
# Tensors of a classification top that a model built with include_top=False
# does not need.
TOP_MODULES = ("fc", "classifier")
SKIPPED_TENSORS = ("num_batches_tracked",)


def read_state_dict(path):
    """A checkpoint's state dict as `{name: float32 numpy array}`.

    Args:
        path: a `.npz` (arrays named like the state dict's keys) or a PyTorch
            checkpoint (`.pth`, `.pth.tar`, `.pt`) holding a state dict, or a
            dict with a `state_dict` entry; loaded with `weights_only=True`.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Checkpoint not found. Received: path={path}")
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as arrays:
            state = {key: arrays[key] for key in arrays.files}
    elif path.endswith(TORCH_SUFFIXES):
        import torch

        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
            state = checkpoint.get("state_dict", checkpoint)
            state = {key: value.numpy() for key, value in state.items()}
        except Exception as error:  # torch's errors vary; its advice to drop weights_only is never passed on
            raise ValueError(
                f"{path} is not a readable PyTorch checkpoint of tensors ({type(error).__name__}: truncated, "
                "corrupt, or holding objects other than tensors, which are never unpickled). Accepted: a file "
                f"saved with torch.save(state_dict) or {{'state_dict': ...}}. Received: path={path}"
            ) from None
    else:
        raise ValueError(
            "A checkpoint must be a .npz or a PyTorch "
            f"{'/'.join(TORCH_SUFFIXES)} file. Received: path={path}"
        )
    return {
        key.removeprefix("module."): np.asarray(value, dtype="float32")
        for key, value in state.items()
        if not key.endswith(SKIPPED_TENSORS)
    }


def _torch_tensors(layer, prefix):
    """`[(state dict key, transform)]` for the Keras weights of `layer`, in order."""
    from keras_robust.layers import PushPull2D

    conv_kernel = lambda w: w.transpose(2, 3, 1, 0)  # noqa: E731  (out,in,h,w) -> (h,w,in,out)
    same = lambda w: w  # noqa: E731
    if isinstance(layer, PushPull2D):
        pairs = [(f"{prefix}.push.weight", conv_kernel)]
        if layer.use_bias:
            pairs.append((f"{prefix}.push.bias", same))
        if layer.trainable_alpha:
            pairs.append((f"{prefix}.alpha", np.ravel))
        return pairs
    if isinstance(layer, keras.layers.Conv2D):
        pairs = [(f"{prefix}.weight", conv_kernel)]
        return pairs + ([(f"{prefix}.bias", same)] if layer.use_bias else [])
    if isinstance(layer, keras.layers.BatchNormalization):
        names = (["weight"] if layer.scale else []) + (["bias"] if layer.center else [])
        names += ["running_mean", "running_var"]
        return [(f"{prefix}.{name}", same) for name in names]
    if isinstance(layer, keras.layers.Dense):
        pairs = [(f"{prefix}.weight", np.transpose)]
        return pairs + ([(f"{prefix}.bias", same)] if layer.use_bias else [])
    raise ValueError(
        f"Layer {layer.name!r} ({type(layer).__name__}) has weights but no "
        "PyTorch counterpart: only Conv2D, PushPull2D, BatchNormalization and "
        "Dense layers can be loaded from a state dict."
    )


def load_torch_checkpoint(model, path):
    """Copy the tensors of a PyTorch-layout checkpoint into `model`.

    Each Keras layer with weights takes the tensors of the PyTorch module
    whose path, with "." replaced by "_", is the layer's name (`layer1_0_bn1`
    <- `layer1.0.bn1.{weight,bias,running_mean,running_var}`). Convolution
    kernels are transposed from (out, in, kh, kw) to (kh, kw, in, out), Dense
    kernels from (out, in) to (in, out); a push-pull layer takes
    `<module>.push.weight`. Every tensor of the checkpoint must be used,
    except the classifier (`fc`, `classifier`) of a model built without top.

    Args:
        model: a Keras model from `keras_robust.applications`.
        path: a `.npz` state dict or a PyTorch checkpoint (torch needed).

    Raises:
        ValueError: naming the first missing or mis-shaped tensor, or the
            tensors the model has no layer for.

    Example:

    >>> from keras_robust.applications import ResNet20PP, load_torch_checkpoint
    >>> model = ResNet20PP(weights=None)
    >>> load_torch_checkpoint(model, "../shared/data/pushpull-checkpoints/resnet-20-pp.pth.tar")  # doctest: +SKIP
    """
    state = read_state_dict(path)
    by_layer_name = {}
    for key in state:
        prefix = key.rsplit(".", 1)[0].removesuffix(".push")
        by_layer_name[prefix.replace(".", "_")] = prefix
    used = set()
    assignments = []
    for layer in leaf_layers(model):
        if not layer.weights:
            continue
        prefix = by_layer_name.get(layer.name, layer.name.replace("_", "."))
        values = []
        for (key, transform), variable in zip(_torch_tensors(layer, prefix), layer.weights):
            if key not in state:
                raise ValueError(
                    f"Checkpoint {path} has no tensor {key!r} for layer "
                    f"{layer.name!r} of model {model.name!r}: the architectures differ."
                )
            value = transform(state[key])
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"Tensor {key!r} of checkpoint {path} has shape "
                    f"{tuple(state[key].shape)}, which does not fit layer "
                    f"{layer.name!r} of model {model.name!r} (weight shape "
                    f"{tuple(variable.shape)}): the architectures differ."
                )
            used.add(key)
            values.append(value)
        assignments.append((layer, values))
    unused = [
        key for key in state if key not in used and key.split(".", 1)[0] not in TOP_MODULES
    ]
    if unused:
        raise ValueError(
            f"Checkpoint {path} has tensors that model {model.name!r} has no "
            f"layer for, first {unused[0]!r} ({len(unused)} in all): the "
            "architectures differ."
        )
    for layer, values in assignments:
        layer.set_weights(values)
