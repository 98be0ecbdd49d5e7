"""fdt-merge-read-twice: one elementwise op where a kernel reads a value twice.

HardSwish lowers to x * relu6(x + 3) / 6: a chain of elementwise generics
of which two read x. Tile-and-fuse fuses a producer into a loop once per
reader, so the op making x (a conv, in a kernel the activation is fused
into) would run twice per tile, and such a kernel could join no path. This
pass merges, inside each kernel (ops of one location name) that reads one
of its values twice, every single-use elementwise producer into its
elementwise consumer, until the readers are one generic reading x once: the
kernel TFLite's and onnxruntime's fused activations are.
"""

from mlir import ir
from mlir.dialects import linalg

from ..analysis.indexing import is_elementwise, maps, n_inputs
from ..analysis.kernels import is_activation, location_name
from ..ir_utils import ops_named, recreate
from . import register


def _read_twice(block) -> set:
    """Location names of the kernels in which two ops read one activation
    (the kernel's own value, or its input: PRelu compares, scales and
    selects x)."""
    readers = {}  # (value, kernel name) -> the kernel's ops reading it
    for op in block.operations:
        name = location_name(op)
        if name is None:
            continue
        for value in op.operands:
            if is_activation(value):
                readers.setdefault((value, name), set()).add(op.operation)
    return {name for (_, name), ops in readers.items() if len(ops) > 1}


def _mergeable(consumer, names):
    """A single-use elementwise producer `consumer` reads through an identity
    map, of the same kernel, or None."""
    if not is_elementwise(consumer) or location_name(consumer) not in names:
        return None
    amaps = maps(consumer)
    for index in range(n_inputs(consumer)):
        owner = consumer.operands[index].owner
        if not isinstance(owner, ir.OpView):
            continue
        producer = owner.operation
        if (
            is_elementwise(producer)
            and not list(producer.regions[0].blocks[0].arguments[-1].uses)
            and location_name(producer) == location_name(consumer)
            and len({use.owner.operation for use in producer.results[0].uses}) == 1
            and amaps[index] == maps(producer)[-1]
        ):
            return producer
    return None


def _merge(producer, consumer):
    """One generic computing `producer` per element inside `consumer`."""
    made = producer.results[0]
    inputs, input_maps, slot = [], [], {}  # slot: (value, map) -> new block argument number

    def add(value, amap):
        key = (value, str(amap))
        if key not in slot:
            slot[key] = len(inputs)
            inputs.append(value)
            input_maps.append(amap)
        return slot[key]

    consumer_maps, producer_maps = maps(consumer), maps(producer)
    reads = list(zip(consumer.operands, consumer_maps))[: n_inputs(consumer)]
    consumer_args = [None if v == made else add(v, m) for v, m in reads]
    producer_args = [add(v, m) for v, m in list(zip(producer.operands, producer_maps))[: n_inputs(producer)]]
    output = consumer.operands[n_inputs(consumer)]
    with ir.InsertionPoint(consumer), consumer.location:
        merged = linalg.GenericOp(
            [consumer.results[0].type],
            inputs,
            [output],
            ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in [*input_maps, consumer_maps[-1]]]),
            consumer.attributes["iterator_types"],
        )
        types = [ir.ShapedType(v.type).element_type if isinstance(v.type, ir.ShapedType) else v.type for v in inputs]
        block = merged.regions[0].blocks.append(*types, ir.ShapedType(output.type).element_type)
        with ir.InsertionPoint(block):
            mapping = {}
            p_body = producer.regions[0].blocks[0]
            for arg, number in zip(p_body.arguments, producer_args):
                mapping[arg] = block.arguments[number]
            value = _clone_body(p_body, mapping)
            c_body = consumer.regions[0].blocks[0]
            mapping = {c_body.arguments[-1]: block.arguments[-1]}
            for arg, number in zip(c_body.arguments, consumer_args):
                mapping[arg] = value if number is None else block.arguments[number]
            linalg.YieldOp([_clone_body(c_body, mapping)])
    consumer.results[0].replace_all_uses_with(merged.results[0])
    consumer.erase()
    producer.erase()
    return merged.operation


def _clone_body(body, mapping):
    """Clones `body`'s ops at the insertion point; the value it yields."""
    for inner in body.operations:
        inner = inner.operation
        operands = [mapping.get(v, v) for v in inner.operands]
        if inner.name == "linalg.yield":
            return operands[0]
        copy = recreate(inner, operands)
        for old, new in zip(inner.results, copy.results):
            mapping[old] = new
    raise AssertionError("a linalg body ends in linalg.yield")


@register("fdt-merge-read-twice", "Merge the elementwise ops of a kernel that reads one of its values twice")
def merge_read_twice(module_op: ir.Operation):
    for func in ops_named(module_op, "func.func"):
        block = func.regions[0].blocks[0]
        names = _read_twice(block)
        ops = [o.operation for o in block.operations if names and location_name(o) in names]
        i = 0
        while i < len(ops):
            producer = _mergeable(ops[i], names)
            if producer is None:
                i += 1
                continue
            j = ops.index(producer)
            ops[i] = _merge(producer, ops[i])
            del ops[j]
            i -= 1  # the merged op, now one place earlier, may merge again
