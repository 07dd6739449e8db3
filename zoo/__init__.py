"""Models, datasets and training experiments behind the `lqz` command."""

from zoo import quiet

# TensorFlow logs most of its chatter while it loads, so `lqz` quiets it first (see
# zoo/quiet.py); a user's own TF_CPP_MIN_LOG_LEVEL wins.
quiet.before_tensorflow()

import lab_bnn  # noqa: E402,F401  (legacy Keras before TensorFlow; registers binarizers)

import zoo.models  # noqa: E402,F401  (registers the zoo's Keras objects, so .h5 files reload)
