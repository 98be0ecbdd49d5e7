"""The command-line front ends: fdt-opt-mlir (the compiler driver)."""
