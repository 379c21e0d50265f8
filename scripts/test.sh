#!/usr/bin/env bash
# nninit's one test command: sets up what the tests need, then runs every test.
#
#   scripts/test.sh            setup, the Rust tests, the Python package's tests
#   scripts/test.sh setup      only install what is missing
#   scripts/test.sh rust       setup, then only the Rust tests
#   scripts/test.sh python     setup, then only the Python package's tests
#
# Setup: Mesa's Vulkan software driver (lavapipe, package mesa-vulkan-drivers) where no Vulkan
# driver is installed, Open MPI's mpirun (openmpi-bin) and Python's venv module, through apt-get
# as root or with sudo; otherwise it stops at once, naming the package and the command. No test
# is skipped for want of them: the GPU tests fail without an adapter and the distributed tests
# without mpirun. The Python tests run in .venv, created here, with the versions whose recipes
# and DTensor API the package follows (torch's Linux wheels bring their CUDA libraries, a few GB),
# and megatron-core's, which needs Python 3.12, in .venv-megatron (a few GB more).
# At the end it prints how long each stage took.
set -euo pipefail
cd "$(dirname "$0")/.."

stage_names=()
stage_seconds=()
current=""

# Runs "$@" as stage $1, timing it.
stage() {
    current=$1
    shift
    echo "==> $current"
    local start=$SECONDS
    "$@"
    stage_names+=("$current")
    stage_seconds+=($((SECONDS - start)))
    current=""
}

# At exit, even a failing one: how long each stage took, the one that failed included.
summary() {
    local rc=$?
    [ -n "$current" ] && stage_names+=("$current (failed)") && stage_seconds+=(-1)
    echo "==> where the time went"
    local i
    for i in "${!stage_names[@]}"; do
        if [ "${stage_seconds[$i]}" -ge 0 ]; then
            printf '    %-40s %5d s\n' "${stage_names[$i]}" "${stage_seconds[$i]}"
        else
            printf '    %-40s\n' "${stage_names[$i]}"
        fi
    done
    printf '    %-40s %5d s\n' total "$SECONDS"
    exit "$rc"
}

# The packages this machine lacks, one per line.
missing_packages() {
    compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null ||
        compgen -G '/etc/vulkan/icd.d/*.json' >/dev/null || echo mesa-vulkan-drivers
    command -v mpirun >/dev/null 2>&1 || echo openmpi-bin
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || echo python3-venv
}

setup() {
    local packages
    mapfile -t packages < <(missing_packages)
    [ ${#packages[@]} -eq 0 ] && { echo "nothing to install"; return; }
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo)
        else
            echo "scripts/test.sh: the tests need ${packages[*]}: run 'sudo apt-get install ${packages[*]}', then this again" >&2
            exit 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "scripts/test.sh: the tests need ${packages[*]} (Debian's names) and this machine has no apt-get: install them, then run this again" >&2
        exit 1
    fi
    echo "installing ${packages[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
    mapfile -t packages < <(missing_packages)
    if [ ${#packages[@]} -gt 0 ]; then
        echo "scripts/test.sh: ${packages[*]} still missing after apt-get install" >&2
        exit 1
    fi
}

rust_tests() {
    # The adapter the GPU tests will use, named before they run.
    cargo run --release --quiet -- adapter
    # Every test binary runs even when one fails, so one failure does not hide the rest.
    cargo test --release --no-fail-fast
}

python_tests() {
    python3 -m venv .venv
    .venv/bin/pip install --quiet --upgrade pip
    .venv/bin/pip install --quiet maturin numpy pytest mypy ml-dtypes torch==2.15.0 torchvision
    # The pretraining frameworks whose recipes and model classes the tests check. OLMo-core 3.0
    # declares torch<2.14 (and runs on 2.15: its own init is what the tests compare against), so
    # it and its dependencies are installed without pip's resolver. torchtitan 0.3.0 pins
    # datasets<4.8, whose metadata asks huggingface-hub<2, which transformers 5.25.0 (installed
    # last) replaces by the hub 2.x it needs (pip says so, and goes on); nothing here uses
    # datasets.
    .venv/bin/pip install --quiet torchtitan==0.3.0
    .venv/bin/pip install --quiet --no-deps ai2-olmo-core==3.0.0
    .venv/bin/pip install --quiet 'cached-path>=1.7.2' 'dataclass-extensions>=0.3.0' bettermap \
        importlib_resources rich pyyaml
    .venv/bin/pip install --quiet transformers==5.25.0
    # nninit.jax's: the versions python/tests/test_jax.py was written against.
    .venv/bin/pip install --quiet jax==0.10.2 flax==0.12.8 keras==3.15.1 orbax-checkpoint==0.12.8
    # The package built once, as a wheel both venvs install.
    rm -rf target/wheels
    .venv/bin/pip wheel --quiet --no-deps ./python -w target/wheels
    .venv/bin/pip install --quiet --force-reinstall --no-deps target/wheels/nninit-*.whl
    # The type hints (py.typed, nninit/_nninit.pyi), checked as the frameworks beside it are.
    .venv/bin/mypy --config-file python/pyproject.toml --no-incremental python/nninit
    .venv/bin/pytest python/tests --ignore=python/tests/megatron
}

# The Python this machine has at version 3.12 (megatron-core 0.19 requires it): pyenv's, or one
# on the PATH, whichever runs (pyenv's shim for python3.12 is on the PATH but fails unless 3.12
# is its selected version).
python312() {
    local candidate
    for candidate in $(compgen -G "${PYENV_ROOT:-$HOME/.pyenv}/versions/3.12*/bin/python3.12") \
        $(command -v python3.12 2>/dev/null); do
        if "$candidate" -c 'import sys' >/dev/null 2>&1; then
            echo "$candidate"
            return
        fi
    done
}

megatron_tests() {
    local python
    python=$(python312)
    if [ -z "$python" ]; then
        echo "scripts/test.sh: the Megatron tests need Python 3.12 (megatron-core 0.19 requires it): install it (apt-get install python3.12, or pyenv install 3.12), then run this again" >&2
        exit 1
    fi
    "$python" -m venv .venv-megatron
    .venv-megatron/bin/pip install --quiet --upgrade pip
    .venv-megatron/bin/pip install --quiet numpy pytest torch==2.15.0 megatron-core==0.19.2
    .venv-megatron/bin/pip install --quiet --force-reinstall --no-deps target/wheels/nninit-*.whl
    .venv-megatron/bin/pytest python/tests/megatron
}

what=${1:-all}
case $what in
    all | setup | rust | python) ;;
    *)
        echo "usage: scripts/test.sh [setup|rust|python]" >&2
        exit 2
        ;;
esac

trap summary EXIT
stage setup setup
if [ "$what" = all ] || [ "$what" = rust ]; then
    stage "rust: cargo test --release" rust_tests
fi
if [ "$what" = all ] || [ "$what" = python ]; then
    stage "python: venv, package, pytest" python_tests
    stage "python 3.12: megatron-core, pytest" megatron_tests
fi
