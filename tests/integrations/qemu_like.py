"""A tiny QEMU-shaped repository for the integration tests: a device whose realize reaches
the machine (the change maintainers push back on) and one that does not."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FOO = "hw/misc/foo.c"
MACHINE_CALL = "    MachineState *ms = MACHINE(qdev_get_machine());"

_HEAD = """\
#include "qemu/osdep.h"
#include "hw/boards.h"
#include "hw/qdev-core.h"

typedef struct FooState {
    DeviceState parent_obj;
    bool ready;
} FooState;

"""

_TAIL = """
static void foo_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = foo_realize;
}

static const TypeInfo foo_info = {
    .name = "foo",
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(FooState),
    .class_init = foo_class_init,
};
"""

BAD_FOO = _HEAD + f"""\
static void foo_realize(DeviceState *dev, Error **errp)
{{
{MACHINE_CALL}

    (void)ms;
}}
""" + _TAIL

CLEAN_FOO = _HEAD + """\
static void foo_realize(DeviceState *dev, Error **errp)
{
    FooState *s = (FooState *)dev;

    s->ready = true;
}
""" + _TAIL

MAINTAINERS_BASE = "Misc devices\nM: Someone <someone@example.org>\nS: Maintained\n" \
    "F: hw/misc/bar.c\n"
MAINTAINERS_FOO = MAINTAINERS_BASE + "\nFoo device\nM: Ada Author <ada@example.org>\n" \
    "S: Maintained\nF: hw/misc/foo.c\n"


def commit_message(subject: str) -> str:
    return (f"{subject}\n\nWhat this change does and why.\n\n"
            "Signed-off-by: Ada Author <ada@example.org>\n")


def reviewbot_env(env: dict[str, str]) -> dict[str, str]:
    """The environment for a child that runs reviewbot from this checkout."""
    out = dict(env)
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    out["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    return out
