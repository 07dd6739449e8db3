"""Models, datasets and training experiments behind the `lqz` command."""

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow; registers binarizers)
