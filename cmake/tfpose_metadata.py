"""scikit-build-core dynamic-metadata provider: ties a tfpose wheel to the TensorFlow minor it is built for.

The op library links TensorFlow's C++ API, which has no stable ABI across releases, so a wheel only
works with the TensorFlow minor whose headers it was compiled against. This provider writes that
minor into the wheel's metadata:

* version: ``__version__`` of python/tfpose/__init__.py plus the local label ``+tf<major>.<minor>``
  (``0.1.0+tf2.21``), read from the TensorFlow distribution installed in the build environment (the
  same one CMake compiles against: builds run with ``--no-build-isolation``). The label is left out
  for an sdist and for a wheel built from an sdist (an sdist's version is final: PEP 643), and when
  no TensorFlow is installed (a build without the op library).
* optional-dependencies: the extras ``cpu`` (``tensorflow-cpu==<minor>.*``) and ``gpu``
  (``tensorflow[and-cuda]==<minor>.*``), added to the static extras of pyproject.toml.

TensorFlow is deliberately not a hard dependency: ``tensorflow`` and ``tensorflow-cpu`` install into
the same ``tensorflow/`` folder and no metadata can say "either one", so a hard pin on one of them
makes pip install it over the other. The op loader (python/tfpose/_loader.py) checks the running
TensorFlow's minor at import time instead.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

# The TensorFlow minors tfpose is built and tested against (README "Install", .ci/run); the newest is
# what an sdist's extras name when no TensorFlow is installed.
SUPPORTED_TF_MINORS = ("2.19", "2.20", "2.21")
# Distributions that provide the `tensorflow` package, in the order the build's CMake reports them.
TF_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow_cpu", "tf-nightly")

_VERSION_RE = re.compile(r'^__version__ *= *"(?P<value>[^"]+)"', re.MULTILINE)


def installed_tf_minor() -> str | None:
    """``"2.21"`` for the TensorFlow distribution installed in this interpreter, None when none is."""
    for name in TF_DISTRIBUTIONS:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        return ".".join(version.split(".")[:2])
    return None


class Provider:
    """The dynamic-metadata 0.3 provider (``[[tool.dynamic-metadata]]`` in pyproject.toml)."""

    def __init__(self) -> None:
        self._state = "wheel"

    def build_state(self, build_state: str) -> None:
        self._state = build_state

    def dynamic_metadata(self, settings, project) -> dict:
        text = Path(settings["version-file"]).read_text(encoding="utf-8")
        match = _VERSION_RE.search(text)
        if match is None:
            raise RuntimeError(f'{settings["version-file"]}: expected a line __version__ = "X.Y.Z"')
        version = match.group("value")
        minor = installed_tf_minor()
        if minor is not None and minor not in SUPPORTED_TF_MINORS:
            print(
                f"tfpose: warning: building against TensorFlow {minor}, which is not among the tested "
                f"minors {', '.join(SUPPORTED_TF_MINORS)}",
                file=sys.stderr,
            )
        # PKG-INFO exists in an unpacked sdist: its version was fixed when the sdist was made.
        from_sdist = Path("PKG-INFO").is_file()
        if minor is not None and self._state != "sdist" and not from_sdist:
            version += f"+tf{minor}"
        pin = f"=={minor or SUPPORTED_TF_MINORS[-1]}.*"
        return {
            "version": version,
            "optional-dependencies": {"cpu": [f"tensorflow-cpu{pin}"], "gpu": [f"tensorflow[and-cuda]{pin}"]},
        }

    def dynamic_wheel(self, settings) -> dict:
        # The extras follow the TensorFlow of the build, which may differ between an sdist and a wheel.
        return {"optional-dependencies": True}
