/* path: include/hw/misc/lantern.h */
#ifndef HW_MISC_LANTERN_H
#define HW_MISC_LANTERN_H

#include "hw/sysbus.h"
#include "hw/boards.h"

struct LanternState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    /* ruleid: qemu-device-holds-machine */
    MachineState *machine;
};

struct LanternMachineState {
    MachineState parent_obj;

    /* ok: qemu-device-holds-machine */
    MachineState *peer;
};

#endif
