/* path: hw/mem/tile-mem.c */
/* Without a tree there is no machine to look into: the rule stays quiet (see the tests for
 * the case with a tree). */
#include "qemu/osdep.h"
#include "hw/mem/memory-device.h"

static void tile_mem_class_init(ObjectClass *oc, void *data)
{
    MemoryDeviceClass *mdc = MEMORY_DEVICE_CLASS(oc);

    mdc->get_addr = tile_mem_get_addr;
}

/* ok: qom-memory-device-no-machine-handler */
static const TypeInfo tile_mem_info = {
    .name = TYPE_TILE_MEM,
    .parent = TYPE_DEVICE,
    .class_init = tile_mem_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_MEMORY_DEVICE },
        { }
    },
};
