/* path: hw/mem/slate-mem.c */
/* Checked against the made-up tree beside this file (qom-memory-device-plugged.c.tree/), whose
 * board plugs TYPE_BRICK_DIMM in its pre_plug handler. */
#include "qemu/osdep.h"
#include "hw/mem/memory-device.h"

/* No machine handler tests for TYPE_SLATE_MEM or its parent. */
/* ruleid: qom-memory-device-no-machine-handler */
static const TypeInfo slate_mem_info = {
    .name = TYPE_SLATE_MEM,
    .parent = TYPE_DEVICE,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_MEMORY_DEVICE },
        { }
    },
};

/* A kind of brick DIMM: the board plugs it through its parent. */
/* ok: qom-memory-device-no-machine-handler */
static const TypeInfo slate_dimm_info = {
    .name = TYPE_SLATE_DIMM,
    .parent = TYPE_BRICK_DIMM,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_MEMORY_DEVICE },
        { }
    },
};

/* Abstract: only its subtypes are plugged. */
/* ok: qom-memory-device-no-machine-handler */
static const TypeInfo slate_base_info = {
    .name = TYPE_SLATE_BASE,
    .parent = TYPE_DEVICE,
    .abstract = true,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_MEMORY_DEVICE },
        { }
    },
};

/* Not a memory device. */
/* ok: qom-memory-device-no-machine-handler */
static const TypeInfo slate_ctl_info = {
    .name = TYPE_SLATE_CTL,
    .parent = TYPE_DEVICE,
};
