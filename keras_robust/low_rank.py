"""Rank-constrained convolution kernels (Tai et al., 2016): a k×k kernel as a k×1 then a 1×k kernel, and back."""

import numpy as np


def _split_kernel(kernel, rank):
    """Truncated SVD of one (kh, kw, C, N) kernel as (C·kh) x (N·kw) matrix."""
    kh, kw, channels, filters = kernel.shape
    matrix = kernel.transpose(2, 0, 3, 1).reshape(channels * kh, filters * kw)
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    root = np.sqrt(s[:rank])
    vertical = (u[:, :rank] * root).reshape(channels, kh, rank).transpose(1, 0, 2)
    horizontal = (vt[:rank].T * root).reshape(filters, kw, rank).transpose(1, 2, 0)
    return vertical[:, None], horizontal[None]


def full_rank(kernel_shape, groups=1):
    """Largest P of a (kh, kw, C/groups, N) kernel: groups · min(C/groups·kh, N/groups·kw).

    Example:

    ```python
    from keras_robust.low_rank import full_rank

    assert full_rank((3, 3, 4, 8)) == 12
    ```
    """
    kh, kw, channels, filters = kernel_shape
    return groups * min(channels * kh, filters // groups * kw)


def decompose_kernel(kernel, rank, groups=1):
    """Closed-form rank-`rank` split of a (kh, kw, C/groups, N) kernel (Tai et al.).

    Each group's kernel as a (C·kh) x (N·kw) matrix is approximated by its
    truncated SVD, the global optimum of the rank-constrained problem; a
    grouped kernel gets `rank / groups` maps per group.

    Args:
        kernel: array of shape (kh, kw, C/groups, N).
        rank: P, the number of intermediate maps: an int in
            [groups, `full_rank`], a multiple of `groups`.
        groups: the convolution's groups.

    Returns:
        `(vertical, horizontal)` kernels of shapes (kh, 1, C/groups, P) and
        (1, kw, P/groups, N), for convolutions with the same groups; the
        vertical followed by the horizontal convolution equals the original
        at full rank (`full_rank`).

    Example:

    ```python
    import numpy as np
    from keras_robust.low_rank import decompose_kernel, merge_pair_kernels

    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 8))
    vertical, horizontal = decompose_kernel(kernel, rank=12)
    np.testing.assert_allclose(merge_pair_kernels(vertical, horizontal), kernel, atol=1e-10)
    ```
    """
    kernel = np.asarray(kernel, dtype="float64")
    full = full_rank(kernel.shape, groups)
    if (isinstance(rank, bool) or not isinstance(rank, (int, np.integer))
            or not groups <= rank <= full or rank % groups):
        raise ValueError(
            f"`rank` must be an int in [{groups}, {full}], a multiple of groups={groups}, "
            f"for a {kernel.shape} kernel. Received: rank={rank!r}"
        )
    parts = [_split_kernel(k, rank // groups) for k in np.split(kernel, groups, axis=-1)]
    return tuple(np.concatenate(p, axis=-1) for p in zip(*parts))


def merge_pair_kernels(vertical, horizontal):
    """The (kh, kw, C, N) kernel of a (kh, 1, C, P) convolution followed by a (1, kw, P, N) one (no groups).

    Args:
        vertical: the k×1 kernel, shape (kh, 1, C, P).
        horizontal: the 1×k kernel, shape (1, kw, P, N).

    Returns:
        The k×k kernel as a numpy array of `horizontal`'s dtype.

    Example:

    ```python
    import numpy as np
    from keras_robust.low_rank import merge_pair_kernels

    kernel = merge_pair_kernels(np.ones((3, 1, 2, 5)), np.ones((1, 3, 5, 4)))
    assert kernel.shape == (3, 3, 2, 4) and kernel.max() == 5
    ```
    """
    vertical, horizontal = np.asarray(vertical), np.asarray(horizontal)
    return np.einsum("acp,bpn->abcn", vertical[:, 0], horizontal[0]).astype(horizontal.dtype)
