"""Codecs of the input image, for remote computing: what a camera really sends.

Pillow encodes an H x W x 3 uint8 image (the dataset's image at the model's input
resolution, before normalisation) and the server decodes it before the model.

* ``jpeg@Q``: baseline JPEG (ITU-T T.81) at quality Q (1-100, libjpeg's scale), with
  Pillow's defaults otherwise (4:2:0 chroma subsampling).
* ``webp@Q``: lossy WebP (VP8) at quality Q (1-100).
* ``png``: lossless PNG (zlib level 6, Pillow's default).
"""

from __future__ import annotations

import io

import numpy as np

from .base import CODECS, IMAGE, Codec, Parameter

__all__ = ["Jpeg", "Webp", "Png"]


class _Pillow(Codec):
    kind = IMAGE
    #: Pillow's format name.
    format = ""

    def _options(self) -> dict:
        """Pillow's save options: the quality of a lossy format."""
        return {"quality": self.value} if self.parameter is not None else {}

    def encode(self, data) -> bytes:
        from PIL import Image

        image = Image.fromarray(np.ascontiguousarray(data, dtype=np.uint8), "RGB")
        buffer = io.BytesIO()
        image.save(buffer, format=self.format, **self._options())
        return buffer.getvalue()

    def decode(self, payload: bytes, like):
        from PIL import Image

        with Image.open(io.BytesIO(payload)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)


@CODECS.register
class Jpeg(_Pillow):
    name = "jpeg"
    format = "JPEG"
    lossless = False
    parameter = Parameter("quality", 1, 100, 75)
    summary = "JPEG of the input image at quality Q (1-100)"


@CODECS.register
class Webp(_Pillow):
    name = "webp"
    format = "WEBP"
    lossless = False
    parameter = Parameter("quality", 1, 100, 75)
    summary = "lossy WebP of the input image at quality Q (1-100)"


@CODECS.register
class Png(_Pillow):
    name = "png"
    format = "PNG"
    summary = "lossless PNG of the input image"
