"""The setup's choice between the PyPI wheel and a native whisper.cpp build."""

from bench.native_choice import NATIVE_MAX_CPU_RATIO, decide, missing_in_wheel

AVX512_CPU = ["avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16"]


def test_a_cpu_with_only_what_the_wheel_has_keeps_the_wheel_without_building():
    assert missing_in_wheel(["sse3", "avx", "avx2", "fma", "f16c"]) == []
    choice = decide([], None)
    assert choice.build == "wheel"
    assert "no instruction" in choice.reason


def test_avx512_and_vnni_are_what_the_wheel_lacks():
    assert missing_in_wheel(AVX512_CPU) == ["avx512f", "avx512_vnni", "avx512_bf16"]


def test_the_native_build_is_installed_only_when_measured_cheaper():
    extra = missing_in_wheel(AVX512_CPU)
    assert decide(extra, 0.80).build == "native"
    assert decide(extra, NATIVE_MAX_CPU_RATIO).build == "native"
    # Measured on this workplace's AMD EPYC with AVX-512: the native build was slower.
    slower = decide(extra, 1.19)
    assert slower.build == "wheel"
    assert "1.19x" in slower.reason
    assert decide(extra, None).build == "wheel"  # the build or the measurement failed
