"""An estimated cycle count for Cortex-M4 code, by instruction class.

The same model prices every program the benchmark runs, ours and
CMSIS-NN's, so ratios between them do not depend on its constants. From the
Cortex-M4 Technical Reference Manual (instruction timings, zero-wait-state
memory):

| class | cycles |
|---|---|
| most instructions (ALU, MUL, MLA, SMULL, SMLAL, SMLAD, SXTB16, SSAT, IT, ...) | 1 |
| single load (LDR, LDRB, LDRH, LDRSB, LDRSH) | 2; 1 right behind a single load not feeding its address |
| single store (STR, STRB, STRH) | 1 |
| LDRD, STRD | 3 |
| LDM, STM, PUSH, POP | 1 + number of registers |
| SDIV, UDIV | 7 (2 to 12 on the core, by operand size) |
| taken branch (B, BL, BX, BLX, CBZ, CBNZ, TBB, TBH, or a write to PC) | 1 + P, P = 2 (1 to 3 on real parts) |

Instructions that an IT block skips are counted as executed: they still
take a cycle on the core. Flash wait states are not modelled.
"""

from dataclasses import dataclass

from capstone import CS_ARCH_ARM, CS_MODE_MCLASS, CS_MODE_THUMB, Cs
from capstone import arm_const as arm

PIPELINE_REFILL = 2  # P
DIVIDE = 7


def _ids(names: str) -> set:
    """Capstone's instruction ids of space-separated mnemonics."""
    return {getattr(arm, f"ARM_INS_{name}") for name in names.split()}


_LOADS = _ids("LDR LDRB LDRH LDRSB LDRSH")
_STORES = _ids("STR STRB STRH")
_DOUBLES = _ids("LDRD STRD")
_MULTIPLES = _ids("LDM LDMDB STM STMDB PUSH POP")
_DIVIDES = _ids("SDIV UDIV")
_BRANCHES = _ids("B BL BX BLX CBZ CBNZ TBB TBH")
_MACS = _ids("MLA MLS SMLAL UMLAL SMLABB SMLABT SMLATB SMLATT SMLAWB SMLAWT")
_DUAL_MACS = _ids("SMLAD SMLADX SMLALD SMLALDX SMUAD")

# The instruction mix a profile reports, by class.
CLASSES = ("load", "store", "mac", "dual_mac", "branch", "other")


@dataclass(frozen=True)
class Block:
    """A straight run of instructions as the emulator executes it."""

    instructions: int
    cycles: int  # without the penalty of a taken branch at its end
    ends_in_branch: bool
    fallthrough: int  # the address after its last instruction
    mix: tuple  # instructions per class, in CLASSES order


class Decoder:
    """Decodes and prices basic blocks of Thumb-2 M-profile code."""

    def __init__(self):
        self._cs = Cs(CS_ARCH_ARM, CS_MODE_THUMB | CS_MODE_MCLASS)
        self._cs.detail = True

    def block(self, code: bytes, address: int) -> Block:
        cycles, count, previous_load, last = 0, 0, None, None
        mix = dict.fromkeys(CLASSES, 0)
        for insn in self._cs.disasm(code, address):
            count += 1
            last = insn
            kind, cost = _price(insn, previous_load)
            cycles += cost
            mix[kind] += 1
            previous_load = insn if insn.id in _LOADS else None
        if last is None:
            raise ValueError(f"cannot decode the code at {address:#x}")
        return Block(count, cycles, _writes_pc(last), last.address + last.size, tuple(mix[k] for k in CLASSES))


def _price(insn, previous_load) -> tuple[str, int]:
    """(class, cycles) of one instruction; a taken branch's refill is added
    by the caller, which sees where execution goes next."""
    ident = insn.id
    if ident in _LOADS:
        pipelined = previous_load is not None and not _feeds_address(previous_load, insn)
        return "load", 1 if pipelined else 2
    if ident in _STORES:
        return "store", 1
    if ident in _DOUBLES:
        return ("load" if ident == arm.ARM_INS_LDRD else "store"), 3
    if ident in _MULTIPLES:
        registers = sum(1 for op in insn.operands if op.type == arm.ARM_OP_REG) - (
            1 if ident not in (arm.ARM_INS_PUSH, arm.ARM_INS_POP) else 0
        )
        return ("store" if ident in (arm.ARM_INS_STM, arm.ARM_INS_STMDB, arm.ARM_INS_PUSH) else "load"), 1 + registers
    if ident in _DIVIDES:
        return "other", DIVIDE
    if ident in _BRANCHES:
        return "branch", 1
    if ident in _MACS or ident == arm.ARM_INS_MUL:
        return "mac", 1
    if ident in _DUAL_MACS:
        return "dual_mac", 1
    return "other", 1


def _feeds_address(load, insn) -> bool:
    """True when `load`'s destination is a base or index register of `insn`."""
    destination = load.operands[0].reg
    for op in insn.operands:
        if op.type == arm.ARM_OP_MEM and destination in (op.mem.base, op.mem.index):
            return True
    return False


def _writes_pc(insn) -> bool:
    """True for a branch, a POP or LDM of PC, or an LDR or MOV into PC."""
    if insn.id in _BRANCHES:
        return True
    registers = [op.reg for op in insn.operands if op.type == arm.ARM_OP_REG]
    if insn.id in (arm.ARM_INS_POP, arm.ARM_INS_LDM):
        return arm.ARM_REG_PC in registers
    return insn.id in (arm.ARM_INS_LDR, arm.ARM_INS_MOV) and registers[:1] == [arm.ARM_REG_PC]
