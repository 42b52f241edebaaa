"""keras_robust: image classifiers robust to noise, blur, weather and compression."""

__version__ = "0.1.0"
