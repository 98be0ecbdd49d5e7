"""fdt-example: write the project's own example models.

The README's first command compiles a model the project makes itself, so
that a fresh clone can run the whole flow without outside files.
"""

import argparse
from pathlib import Path

from .tflite_builder import example_model, float_example_model

MODELS = {"int8": example_model, "float32": float_example_model}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fdt-example", description=__doc__.splitlines()[0])
    parser.add_argument("output", help="the .tflite file to write")
    parser.add_argument("--type", choices=sorted(MODELS), default="int8", help="element type of the model")
    args = parser.parse_args(argv)
    Path(args.output).write_bytes(MODELS[args.type]())
    print(f"wrote {args.output} ({args.type} keyword-spotting-like CNN)")
    return 0
