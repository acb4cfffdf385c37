"""Check primitives, one module per family; each registers itself with rules.registry."""
