"""Every registered zoo model × {sign, LAB in every stage} builds for ImageNet, and the
ones that follow larq-zoo's architecture match it layer by layer."""

from lab_bnn.quantizers import LAB

import larq as lq
import larq_zoo
import pytest

from zoo.models import BiRealNet, QuickNet, XNORNet, available, get_model

VARIANTS = {"sign": (False,) * 4, "lab": (True,) * 4}
CASES = [(name, variant) for name in available() for variant in VARIANTS]


def binary_convs(model):
    """QuantConv2D layers with both binarizers (larq-zoo also builds float ones)."""
    return [
        l
        for l in model.layers
        if isinstance(l, lq.layers.QuantConv2D)
        and l.input_quantizer is not None
        and l.kernel_quantizer is not None
    ]


@pytest.mark.parametrize("name,variant", CASES)
def test_builds_for_imagenet_with_lab_where_asked(name, variant):
    """ImageNet's shape; training, reopening and converting each model at its small
    input is tests/zoo/test_pipeline_matrix.py's job."""
    model = get_model(name).build(input_shape=(224, 224, 3), num_classes=1000, lab_blocks=VARIANTS[variant])
    assert model.output_shape == (None, 1000)
    assert binary_convs(model)
    labs = sum(isinstance(m, LAB) for m in model.submodules)
    assert (labs > 0) == (variant == "lab")


LARQ_ZOO_TWINS = {
    "BiRealNet": (BiRealNet, larq_zoo.literature.BiRealNet),
    "QuickNet": (QuickNet, larq_zoo.sota.QuickNet),
    "XNORNet": (XNORNet, larq_zoo.literature.XNORNet),
}


@pytest.mark.parametrize("name", LARQ_ZOO_TWINS)
def test_has_larq_zoos_architecture(name):
    build, build_reference = LARQ_ZOO_TWINS[name]
    ours, reference = build(), build_reference(weights=None)
    assert ours.count_params() == reference.count_params()
    kinds = lambda m: [type(l).__name__ for l in m.layers if l.weights]  # noqa: E731
    assert kinds(ours) == kinds(reference)
