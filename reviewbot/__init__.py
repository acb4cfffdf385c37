"""reviewbot: review a QEMU-style patch series before it is sent."""

__version__ = "0.1.0"
