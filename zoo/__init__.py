"""Models, datasets and training experiments behind the `lqz` command."""

import os

# Quiet TensorFlow's C++ start-up chatter for `lqz`; a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow; registers binarizers)
