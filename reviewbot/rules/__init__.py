"""Rules as data: the Rule type, the YAML loader and the registry of check primitives."""
