"""Names (and a limit) of the custom ops the engine's rewrites create that more than one rewrite refers to."""

MIRROR_PAD = "LabBnnMirrorPad"  # a MIRROR_PAD with constant paddings (fusion.replace_mirror_pads)
PACK = "LabBnnPack"  # a PACK (fusion.replace_packs)
MAX_PACKED = 64  # inputs of one LabBnnPack (csrc/tflite_data_ops.c, csrc/tflite_pixel_chain.c)
