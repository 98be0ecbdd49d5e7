// The `fdt` dialect: the static memory plan made visible in the IR.
//
// `fdt.arena` states the size in bytes and the alignment of the one static
// arena of a function, the layout `method` ("exact" when the size is proven
// smallest) and a `lower_bound` that no layout of its buffers beats;
// `fdt.buffer` is a buffer placed at a fixed byte offset in it, live over the
// closed range [first, last] of the schedule, and named for the report and the
// C API (`input0`, `output0`, `buf3`, ...). The schedule numbers the
// function's top-level ops from 0, starting after the declarations at its top
// (fdt.arena, fdt.buffer, memref.alloca). A plan can be checked from the IR
// alone.
// Loaded at run time (IRDL); printed in generic form only.
//
// Each attribute gets its own constraint value: IRDL unifies attributes that
// share one.
irdl.dialect @fdt {
  // One fused-tiling path of a plan (module level): `kernels` in producer to
  // consumer order, `roles` one character each ('<', '=', '>', '~' for the
  // FDT family, 's' for spatial FFMT), the `axis` split ("c", "h", "w" or
  // "hw") and `parts`, the partition count (one per split axis).
  irdl.operation @path {
    %family = irdl.base "#builtin.string"
    %axis = irdl.base "#builtin.string"
    %parts = irdl.base "#builtin.dense_array"
    %kernels = irdl.base "#builtin.array"
    %roles = irdl.base "#builtin.string"
    irdl.attributes {"family" = %family, "axis" = %axis, "parts" = %parts, "kernels" = %kernels, "roles" = %roles}
  }
  irdl.operation @arena {
    %size = irdl.base "#builtin.integer"
    %alignment = irdl.base "#builtin.integer"
    %method = irdl.base "#builtin.string"
    %lower_bound = irdl.base "#builtin.integer"
    irdl.attributes {"size" = %size, "alignment" = %alignment, "method" = %method, "lower_bound" = %lower_bound}
  }
  irdl.operation @buffer {
    %offset = irdl.base "#builtin.integer"
    %first = irdl.base "#builtin.integer"
    %last = irdl.base "#builtin.integer"
    %name = irdl.base "#builtin.string"
    %memref = irdl.base "!builtin.memref"
    irdl.attributes {"offset" = %offset, "first" = %first, "last" = %last, "name" = %name}
    irdl.results(result: %memref)
  }
}
