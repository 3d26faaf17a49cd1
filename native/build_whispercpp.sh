#!/usr/bin/env bash
# Build pywhispercpp (and the whisper.cpp/ggml it bundles) from the PyPI source distribution,
# optimised for THIS machine's CPU, into a separate virtual environment.
#
# Why: the PyPI wheel of pywhispercpp is compiled for a generic x86-64 with AVX2. A build with
# GGML_NATIVE=ON (-march=native) uses every instruction set the CPU has (AVX-512, AVX512-VNNI,
# AVX512-BF16, AVX-VNNI, ...) and, the other way round, is the only option on CPUs WITHOUT AVX2,
# where the wheel dies with "Illegal instruction". Run it ON the target machine: the result does
# not run on an older CPU.
#
# The project's own venv (.venv) is never touched. Output, under native/build/ (git-ignored):
#   sdist/        the pywhispercpp-<version>.tar.gz downloaded from PyPI
#   wheels/       the native wheel (pywhispercpp-<version>-cp3XX-cp3XX-linux_x86_64.whl); it can
#                 be installed with pip into any venv of the same Python on the same CPU model
#   venv-native/  a venv with that wheel and (unless --no-project) Balto itself, editable
#   venv-native/BALTO_NATIVE_BUILD.json   what was built, where, how long it took
#   build.log     the full compiler output
#
# Usage:  native/build_whispercpp.sh [--version X.Y.Z] [--venv DIR] [--jobs N]
#                                    [--python PYTHON] [--no-project] [--cmake-args "..."]
#   --version     pywhispercpp version (default: the one installed in .venv, else required)
#   --venv        target venv (default: native/build/venv-native)
#   --jobs        parallel compile jobs (default: nproc)
#   --python      interpreter for the new venv (default: python3); its minor version must match
#                 the Python that runs Balto
#   --no-project  install only the native pywhispercpp (+ numpy, soxr), not Balto (the benchmark
#                 needs only these: it puts src/ on PYTHONPATH)
#   --cmake-args  extra CMake options, e.g. "-DGGML_AVX512_BF16=OFF"
#
# Needs: a C/C++ compiler (gcc/g++ >= 9), Python headers (python3-dev), network access to PyPI
# (the build dependencies cmake and ninja come as wheels). Takes several minutes on 2 cores.
# Then:  native/build/venv-native/bin/balto serve      (benchmark: .venv/bin/python -m bench.asr --configs balto balto-native)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"
BUILD="$SCRIPT_DIR/build"
VENV="$BUILD/venv-native"
VERSION=""
JOBS="$(nproc 2>/dev/null || echo 2)"
PYTHON="${PYTHON:-python3}"
INSTALL_PROJECT=1
EXTRA_CMAKE_ARGS=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --version) VERSION="$2"; shift 2 ;;
        --venv) VENV="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        --python) PYTHON="$2"; shift 2 ;;
        --no-project) INSTALL_PROJECT=0; shift ;;
        --cmake-args) EXTRA_CMAKE_ARGS="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf '[native] %s\n' "$*" >&2; }

if [[ -z "$VERSION" ]]; then
    if [[ -x "$REPO/.venv/bin/python" ]]; then
        VERSION="$("$REPO/.venv/bin/python" -c \
            'import importlib.metadata as m; print(m.version("pywhispercpp"))' 2>/dev/null || true)"
    fi
    if [[ -z "$VERSION" ]]; then
        echo "pywhispercpp is not installed in $REPO/.venv: pass --version X.Y.Z" >&2
        exit 2
    fi
fi
for tool in "$PYTHON" cc c++; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

mkdir -p "$BUILD/sdist" "$BUILD/wheels"
LOG="$BUILD/build.log"
: > "$LOG"
START=$(date +%s)

log "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
log "pywhispercpp $VERSION from source, -march=native, $JOBS jobs; log: $LOG"

# A throwaway venv just for pip: the build runs in pip's isolated build environment.
TOOLS="$BUILD/venv-tools"
[[ -x "$TOOLS/bin/pip" ]] || "$PYTHON" -m venv "$TOOLS"
"$TOOLS/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >>"$LOG" 2>&1

# --no-binary only for pywhispercpp itself: ":all:" would also compile its build
# dependencies (CMake!) from source.
SDIST="$(ls "$BUILD"/sdist/pywhispercpp-"$VERSION".tar.gz 2>/dev/null || true)"
if [[ -z "$SDIST" ]]; then
    log "downloading the source distribution"
    "$TOOLS/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
        --no-binary pywhispercpp -d "$BUILD/sdist" "pywhispercpp==$VERSION" >>"$LOG" 2>&1
    SDIST="$BUILD/sdist/pywhispercpp-$VERSION.tar.gz"
fi
[[ -f "$SDIST" ]] || { echo "no sdist at $SDIST (see $LOG)" >&2; exit 1; }

# pywhispercpp's setup.py appends CMAKE_ARGS (split on spaces) to its CMake command line.
# GGML_NATIVE=ON adds -march=native; the RPATH lets _pywhispercpp find libwhisper/libggml next
# to it in site-packages (the PyPI wheel gets the same from auditwheel).
export CMAKE_ARGS="-DGGML_NATIVE=ON -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH=\$ORIGIN $EXTRA_CMAKE_ARGS"
export CMAKE_BUILD_PARALLEL_LEVEL="$JOBS"
rm -f "$BUILD"/wheels/pywhispercpp-"$VERSION"-*.whl
log "compiling (several minutes)…"
COMPILE_START=$(date +%s)
# -v puts CMake's output in the log; --no-cache-dir: pip must not hand back a wheel it built
# earlier with other flags.
if ! "$TOOLS/bin/python" -m pip wheel -v --disable-pip-version-check --no-deps --no-cache-dir \
        --no-binary pywhispercpp -w "$BUILD/wheels" "$SDIST" >>"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    echo "build failed; full log: $LOG" >&2
    exit 1
fi
COMPILE_S=$(( $(date +%s) - COMPILE_START ))
WHEEL="$(ls "$BUILD"/wheels/pywhispercpp-"$VERSION"-*.whl | head -n 1)"
log "built $(basename "$WHEEL") in ${COMPILE_S} s"
# ggml reports the flags of its CPU backend: "-march=native" must be among them.
CPU_BACKEND="$(grep -m1 -o 'Adding CPU backend variant.*' "$LOG" || true)"
log "${CPU_BACKEND:-CPU backend flags not found in $LOG}"

log "installing into $VENV"
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
pip_install() {
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >>"$LOG" 2>&1; then
        tail -n 20 "$LOG" >&2
        echo "pip install $* failed; full log: $LOG" >&2
        exit 1
    fi
}
pip_install --upgrade pip
pip_install --force-reinstall --no-deps "$WHEEL"  # replace an earlier build, keep the rest
pip_install "$WHEEL"  # its dependencies (numpy, ...)
if [[ "$INSTALL_PROJECT" == 0 ]]; then
    pip_install soxr  # balto.counter.asr resamples with it; the benchmark's worker imports it
else
    # pywhispercpp is already satisfied, so pip keeps the native build.
    pip_install -e "$REPO"
fi

# Refuse a venv whose pywhispercpp is not ours (e.g. replaced by the PyPI wheel).
INFO="$("$VENV/bin/python" - "$WHEEL" <<'EOF'
import json, pathlib, sys
import _pywhispercpp as pw
module = pathlib.Path(pw.__file__)
libs = module.parent / "pywhispercpp.libs"  # only the auditwheel-repaired PyPI wheel has it
if libs.is_dir():
    sys.exit(f"{module} is the PyPI wheel, not the native build")
print(json.dumps({"module": str(module), "system_info": pw.whisper_print_system_info().strip()}))
EOF
)"
TOTAL_S=$(( $(date +%s) - START ))

BUILD_INFO="$INFO" CPU_BACKEND="$CPU_BACKEND" WHEEL="$WHEEL" VERSION="$VERSION" JOBS="$JOBS" \
    COMPILE_S="$COMPILE_S" \
TOTAL_S="$TOTAL_S" "$VENV/bin/python" - "$VENV/BALTO_NATIVE_BUILD.json" <<'EOF'
import json, os, platform, subprocess, sys, time

def cpuinfo(key):
    with open("/proc/cpuinfo") as f:
        return next((l.split(":", 1)[1].strip() for l in f if l.startswith(key)), "")

cc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()
record = {
    "pywhispercpp": os.environ["VERSION"],
    "wheel": os.environ["WHEEL"],
    "cmake_args": os.environ["CMAKE_ARGS"].split(),
    "cpu_backend": os.environ["CPU_BACKEND"],
    "compiler": cc[0] if cc else "",
    "cpu_model": cpuinfo("model name"),
    "cpu_simd_flags": sorted(
        f for f in cpuinfo("flags").split() if f.startswith(("avx", "fma", "f16c", "amx"))
    ),
    "jobs": int(os.environ["JOBS"]),
    "compile_s": int(os.environ["COMPILE_S"]),
    "total_s": int(os.environ["TOTAL_S"]),
    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "python": platform.python_version(),
    **json.loads(os.environ["BUILD_INFO"]),
}
with open(sys.argv[1], "w") as f:
    json.dump(record, f, indent=2)
print("[native] " + record["system_info"], file=sys.stderr)
EOF
log "done in ${TOTAL_S} s: $VENV"
