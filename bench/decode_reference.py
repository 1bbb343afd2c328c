#!/usr/bin/env python3
"""Reference for decode_bench: PIL (Debian python3-pil) decoding the same
image bytes from memory to RGB, one core.

    /usr/bin/python3 bench/decode_reference.py IMAGE...
"""
import io
import sys
import time

from PIL import Image


def per_decode_us(data: bytes, seconds: float = 1.0) -> float:
    n, start = 0, time.perf_counter()
    while True:
        img = Image.open(io.BytesIO(data))
        img.convert("RGB").load()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / n * 1e6


for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    print(f"PIL decode {path}: {per_decode_us(data):.1f} us")
