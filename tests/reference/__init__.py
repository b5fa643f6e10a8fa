"""Independent, slow numpy references of tfpose's algorithms (written from the spec, not from the
C++), used to check the C++ core on random inputs."""
