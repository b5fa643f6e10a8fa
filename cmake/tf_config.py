"""Print TensorFlow's build facts as CMake `set()` lines (run by CMake at configure time).

Writes nothing when TensorFlow is not importable; CMake then builds without the op library.
"""

import sys


def main() -> int:
    try:
        import tensorflow as tf
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable TF"
        print(f'set(TF_FOUND FALSE)\nset(TF_IMPORT_ERROR "{type(exc).__name__}")')
        return 0
    from importlib import metadata

    dist = "unknown"
    for name in ("tensorflow", "tensorflow-cpu", "tensorflow_cpu", "tf-nightly"):
        try:
            metadata.version(name)
            dist = name.replace("-", "_")
            break
        except metadata.PackageNotFoundError:
            continue
    info = tf.sysconfig.get_build_info()
    inc = tf.sysconfig.get_include()
    lib = tf.sysconfig.get_lib()
    cflags = [f for f in tf.sysconfig.get_compile_flags() if not f.startswith("-I")]
    lflags = tf.sysconfig.get_link_flags()

    def q(s):
        return s.replace("\\", "/")

    print("set(TF_FOUND TRUE)")
    print(f'set(TF_VERSION "{tf.__version__}")')
    print(f'set(TF_GIT_VERSION "{tf.__git_version__}")')
    print(f'set(TF_DIST "{dist}")')
    print(f'set(TF_INCLUDE_DIR "{q(inc)}")')
    print(f'set(TF_LIB_DIR "{q(lib)}")')
    print(f'set(TF_CFLAGS "{";".join(cflags)}")')
    print(f'set(TF_LFLAGS "{";".join(lflags)}")')
    print(f"set(TF_IS_CUDA_BUILD {'TRUE' if info.get('is_cuda_build') else 'FALSE'})")
    print(f'set(TF_CUDA_VERSION "{info.get("cuda_version", "")}")')
    return 0


if __name__ == "__main__":
    sys.exit(main())
