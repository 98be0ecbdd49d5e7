"""fdt-example: write the project's own example models.

The README's first command compiles a model the project makes itself, so
that a fresh clone can run the whole flow without outside files.
"""

import argparse
from pathlib import Path

from .tflite_builder import example_model, float_example_model, person_detector_model

MODELS = {
    "int8": (example_model, "int8 keyword-spotting-like CNN"),
    "float32": (float_example_model, "float32 keyword-spotting-like CNN"),
    "person-detector": (person_detector_model, "int8 MobileNetV1-0.25 96x96 person detector"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fdt-example", description=__doc__.splitlines()[0])
    parser.add_argument("output", help="the .tflite file to write")
    parser.add_argument(
        "--type",
        choices=list(MODELS),
        default="int8",
        help="the example CNN in int8 or float32, or a MobileNetV1 person detector as TFLM's visual wake words "
        "(the slowest to search: fdt-bench-compile)",
    )
    args = parser.parse_args(argv)
    build, what = MODELS[args.type]
    Path(args.output).write_bytes(build())
    print(f"wrote {args.output} ({what})")
    return 0
