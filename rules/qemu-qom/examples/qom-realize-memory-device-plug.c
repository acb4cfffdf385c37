/* path: hw/mem/slab-mem.c */
#include "qemu/osdep.h"
#include "hw/boards.h"
#include "hw/mem/memory-device.h"

static void slab_mem_realize(DeviceState *dev, Error **errp)
{
    SlabMemState *s = SLAB_MEM(dev);

    /* ok: qom-realize-memory-device-plug */
    if (!s->hostmem) {
        error_setg(errp, "slab-mem needs a memdev");
        return;
    }
    /* ruleid: qom-realize-memory-device-plug */
    memory_device_pre_plug(MEMORY_DEVICE(s), s->machine, errp);
    memory_device_plug(MEMORY_DEVICE(s), s->machine);
}

/* What the machine's handler would call: not realize, so not reported. */
void slab_mem_plug(SlabMemState *s, MachineState *ms)
{
    /* ok: qom-realize-memory-device-plug */
    memory_device_plug(MEMORY_DEVICE(s), ms);
}

static void slab_mem_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = slab_mem_realize;
}

static const TypeInfo slab_mem_info = {
    .name = TYPE_SLAB_MEM,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(SlabMemState),
    .class_init = slab_mem_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_MEMORY_DEVICE },
        { }
    },
};

static void slab_mem_register_types(void)
{
    type_register_static(&slab_mem_info);
}

type_init(slab_mem_register_types)
