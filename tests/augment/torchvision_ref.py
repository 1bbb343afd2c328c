#!/usr/bin/env python3
"""Reference outputs for tests/augment/torchvision_test.cpp.

Reads cases.json written by the C++ test: a list of input images and a list
of cases {"name", "kind", "args"}; writes <out>/<image index>_<case name>.png
with torchvision.transforms.functional applied to the image as a uint8
tensor [3, H, W], and normalize cases as raw float32.

    /usr/bin/python3 torchvision_ref.py CASES_JSON OUT_DIR
"""
import json
import os
import sys

import torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode
from torchvision.transforms.autoaugment import _apply_op
from PIL import Image


def run(img, kind, args):
    if kind == "resize":
        return F.resize(img, [int(args[1]), int(args[0])], InterpolationMode.BILINEAR, antialias=True)
    if kind == "hflip":
        return F.hflip(img)
    if kind == "pad_crop":
        pad, top, left = (int(a) for a in args)
        padded = F.pad(img, [pad, pad, pad, pad], padding_mode="reflect")
        return F.crop(padded, top, left, img.shape[-2], img.shape[-1])
    if kind == "brightness":
        return F.adjust_brightness(img, args[0])
    if kind == "contrast":
        return F.adjust_contrast(img, args[0])
    if kind == "saturation":
        return F.adjust_saturation(img, args[0])
    if kind == "op":
        return _apply_op(img, args[0], float(args[1]), InterpolationMode.NEAREST, None)
    if kind == "normalize":
        t = F.normalize(F.convert_image_dtype(img, torch.float32), args[0:3], args[3:6])
        return t
    raise ValueError(kind)


def main():
    spec = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    for i, path in enumerate(spec["images"]):
        img = F.pil_to_tensor(Image.open(path).convert("RGB"))
        for case in spec["cases"]:
            res = run(img, case["kind"], case["args"])
            name = os.path.join(out, f"{i}_{case['name']}")
            if res.dtype == torch.uint8:
                F.to_pil_image(res).save(name + ".png")
            else:
                res.contiguous().numpy().astype("float32").tofile(name + ".bin")


if __name__ == "__main__":
    main()
