"""Microkernels: small C functions the generated code calls for its hot
inner loops, as IREE's ukernels. Each is one `.c` file here, emitted into a
model's C only when the model uses it (after the ones it needs). The int8
ones have a portable path and, where the target has it, a faster one (Arm's
DSP extension); both are exact. The float32 ones add in the order of the
loops they replace, so they round the same way."""

from importlib import resources

# What each microkernel's C uses from the others.
REQUIRES = {
    "dot_s8": ["s16x2"],
    "dot2_s8": ["s16x2"],
    "window4_s8": ["s16x2"],
    "s16x2": [],
    "dot_f32": [],
    "dot2_f32": [],
    "window4_f32": [],
    "apply_scale": [],
}


def source(name: str) -> str:
    """The C text of microkernel `name` (e.g. "dot_s8")."""
    return resources.files(__package__).joinpath(f"{name}.c").read_text()


def with_requirements(name: str) -> list[str]:
    """`name` and what it needs, each before its users."""
    found = []
    for required in REQUIRES[name]:
        found += [n for n in with_requirements(required) if n not in found]
    return found + [name]
