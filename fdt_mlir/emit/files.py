"""Writing a compilation's output files: all of them or none."""

import os
import tempfile


def write_files(outdir: str, files: dict[str, str | bytes]):
    """Writes every file into `outdir`, or none."""
    write_trees({outdir: files})


def write_trees(trees: dict[str, dict[str, str | bytes]]):
    """Writes every file of every directory (directory -> file name ->
    text), or none: each goes to a temporary name first, and all are
    renamed only once all are written (a compile's C and its plots)."""
    # mkstemp creates files 0600; outputs get the usual umask-based mode.
    umask = os.umask(0)
    os.umask(umask)
    staged = []
    try:
        for outdir, files in trees.items():
            os.makedirs(outdir, exist_ok=True)
            for filename, text in files.items():
                fd, tmp = tempfile.mkstemp(dir=outdir, prefix=f".{filename}.")
                os.fchmod(fd, 0o666 & ~umask)
                with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
                    f.write(text)
                staged.append((tmp, os.path.join(outdir, filename)))
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
