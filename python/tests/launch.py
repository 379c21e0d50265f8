"""Running a test's workers: a command, or a script under torchrun on the CPU (gloo), one thread
per process; the test fails with the output unless the run succeeds."""

import os
import subprocess
import sys


def run(*command, cwd=None):
    """Runs ``command``; returns its stdout."""
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def torchrun(processes, worker, *args, cwd=None):
    """Runs ``worker`` with ``args`` in ``processes`` processes under torchrun."""
    return run(
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={processes}",
        str(worker),
        *map(str, args),
        cwd=cwd,
    )
