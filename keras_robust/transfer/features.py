"""A trained Keras model used as a fixed feature extractor (DeepCorrect, Sec. V-A7)."""

import keras
import numpy as np

from keras_robust.image_files import resize_image, to_channels
from keras_robust.transfer.cache import fingerprint
from keras_robust.validation import check_int

GLOBAL_POOLING = (
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
)


# Datasets whose paper feature layer is the second fully connected one (fc7):
# "the output of the first (Caltech-101 and Caltech-256) or second (SUN-397)
# fully-connected layer" (DeepCorrect Sec. V-A7, after Donahue et al.).
SECOND_DENSE_DATASETS = ("sun397",)


def _dense_rank(dataset):
    name = "".join(c for c in str(dataset or "").lower() if c.isalnum())
    return 1 if any(d in name for d in SECOND_DENSE_DATASETS) else 0


def default_feature_layer(model, dataset=None):
    """Name of the layer whose output serves as features.

    The paper's choice where the model has fully connected layers besides
    the classifier: the first (AlexNet's fc6) for Caltech-101/256 and any
    other dataset, the second (fc7) for SUN-397 (the first where there is
    only one); else the last global-pooling layer (the features a
    convolutional backbone feeds its classifier), else the model's output
    when it is already a vector (a backbone built with `pooling="avg"`).

    Args:
        model: a Keras model.
        dataset: name of the dataset the features are for (e.g.
            `"caltech101"`, `"sun397"`), or `None`.

    Example:

    ```python
    from keras_robust.deepcorrect.paper_models import alexnet_imagenet
    from keras_robust.transfer import default_feature_layer

    alexnet = alexnet_imagenet(classes=10)
    assert default_feature_layer(alexnet, "caltech101") == "fc6"
    assert default_feature_layer(alexnet, "sun397") == "fc7"
    ```
    """
    output_layer = model.layers[-1]
    dense = [
        layer for layer in model.layers
        if isinstance(layer, keras.layers.Dense) and layer is not output_layer
    ]
    if dense:
        return dense[min(_dense_rank(dataset), len(dense) - 1)].name
    pooling = [layer for layer in model.layers if isinstance(layer, GLOBAL_POOLING)]
    if pooling:
        return pooling[-1].name
    if len(model.output.shape) == 2:
        return output_layer.name
    raise ValueError(
        f"Model {model.name!r} has no fully connected or global-pooling layer to take "
        "features from; name one with `layer=`. Received: layer=None"
    )


def fit_images(images, size, channels=3):
    """uint8 images resized to `size` (height, width) with `channels` channels.

    Grayscale images are replicated to three channels for RGB models (see
    `keras_robust.image_files.to_channels`). Resizing is bilinear with
    antialiasing. `images` is one array (N, H, W[, C]) or a sequence of arrays
    of different sizes.
    """
    height, width = size
    if isinstance(images, np.ndarray) and images.ndim == 3:
        images = images[..., None]
    fitted = []
    for image in images:
        image = to_channels(image, channels)
        if image.shape[:2] != (height, width):
            image = resize_image(image, size)
        fitted.append(np.clip(np.round(image), 0, 255).astype("uint8"))
    return np.stack(fitted) if fitted else np.zeros((0, height, width, channels), "uint8")


class FeatureExtractor:
    """Features of one layer of a Keras model, for raw [0, 255] images.

    Args:
        model: a Keras model taking raw pixel values in [0, 255] (as every
            `keras_robust.applications` model does).
        layer: name of the layer whose output is the feature vector; default
            `default_feature_layer(model, dataset)`. Outputs of rank > 2 are flattened.
        batch_size: images per forward pass.
        name: identity of the model in results and cache keys; default
            `model.name`.
        dataset: name of the dataset, for the paper's default layer (fc7
            for SUN-397, fc6 otherwise).

    Example:
        >>> extractor = FeatureExtractor(keras_robust.applications.ResNet20(weights="cifar10"))
        >>> features = extractor(images_uint8)  # (N, 64): the global-pooling output
    """

    def __init__(self, model, layer=None, batch_size=128, name=None, dataset=None):
        batch_size = check_int("batch_size", batch_size, minimum=1)
        self.model = model
        self.layer = layer or default_feature_layer(model, dataset)
        self.batch_size = batch_size
        self.name = name or model.name
        try:
            output = model.get_layer(self.layer).output
        except ValueError:
            names = [layer.name for layer in model.layers]
            raise ValueError(
                f"Model {model.name!r} has no layer {self.layer!r}. "
                f"Received: layer={self.layer!r}; layers: {', '.join(names)}"
            ) from None
        self._extractor = keras.Model(model.input, output, name=f"{model.name}_{self.layer}")
        shape = model.input_shape
        if None in shape[1:4]:
            raise ValueError(
                f"Model {model.name!r} must have a fixed input size to resize images to. "
                f"Received: input_shape={shape}"
            )
        self.image_size = tuple(shape[1:3])
        self.channels = shape[3]
        self._fingerprint = None

    @property
    def fingerprint(self):
        """SHA-256 of all weights, so retrained or reloaded weights never share a cache."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint(
                *(keras.ops.convert_to_numpy(weight) for weight in self.model.weights)
            )
        return self._fingerprint

    def identity(self):
        """What the features depend on, besides the images: a JSON-serialisable dict."""
        return {
            "model": self.name,
            "weights_sha256": self.fingerprint,
            "layer": self.layer,
            "image_size": list(self.image_size),
            "channels": self.channels,
        }

    def __call__(self, images):
        """float32 features (N, D) of uint8 images already at `image_size`."""
        features = []
        for start in range(0, len(images), self.batch_size):
            batch = np.asarray(images[start:start + self.batch_size], dtype="float32")
            output = np.asarray(self._extractor.predict_on_batch(batch))
            features.append(output.reshape(len(batch), -1))
        if not features:
            width = int(np.prod(self._extractor.output.shape[1:]))
            return np.zeros((0, width), "float32")
        return np.concatenate(features).astype("float32")
