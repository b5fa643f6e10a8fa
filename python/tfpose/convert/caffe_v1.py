"""Caffe's V1 layer types (V1LayerParameter.LayerType), as old prototxts and caffemodels spell them.

Two spellings of one enum: V1 caffemodels store its numbers (:data:`V1_TYPES`, all of them), V1
prototxts its names (:data:`V1_NAMES`, the ones OpenPose-era networks use); both map to the type
strings of the current ``layer {}`` format.
"""

from __future__ import annotations

# V1LayerParameter's LayerType enum: names in V1 prototxts and numbers in V1 caffemodels,
# mapped to the type strings of the current format.
V1_TYPES = {
    0: "None",
    1: "Accuracy",
    2: "BNLL",
    3: "Concat",
    4: "Convolution",
    5: "Data",
    6: "Dropout",
    7: "EuclideanLoss",
    8: "Flatten",
    9: "HDF5Data",
    10: "HDF5Output",
    11: "Im2col",
    12: "ImageData",
    13: "InfogainLoss",
    14: "InnerProduct",
    15: "LRN",
    16: "MultinomialLogisticLoss",
    17: "Pooling",
    18: "ReLU",
    19: "Sigmoid",
    20: "Softmax",
    21: "SoftmaxWithLoss",
    22: "Split",
    23: "TanH",
    24: "WindowData",
    25: "Eltwise",
    26: "Power",
    27: "SigmoidCrossEntropyLoss",
    28: "HingeLoss",
    29: "MemoryData",
    30: "ArgMax",
    31: "Threshold",
    32: "DummyData",
    33: "Slice",
    34: "MVN",
    35: "AbsVal",
    36: "Silence",
    37: "ContrastiveLoss",
    38: "Exp",
    39: "Deconvolution",
}
V1_NAMES = {
    "CONCAT": "Concat",
    "CONVOLUTION": "Convolution",
    "POOLING": "Pooling",
    "RELU": "ReLU",
    "DATA": "Data",
    "DROPOUT": "Dropout",
    "INNER_PRODUCT": "InnerProduct",
    "SPLIT": "Split",
    "SOFTMAX": "Softmax",
    "SIGMOID": "Sigmoid",
    "TANH": "TanH",
    "ELTWISE": "Eltwise",
    "LRN": "LRN",
    "DECONVOLUTION": "Deconvolution",
    "FLATTEN": "Flatten",
    "POWER": "Power",
    "SLICE": "Slice",
}
