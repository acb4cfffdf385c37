/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"

static const MemoryRegionOps lantern_ops = {
    .read = lantern_read,
    .write = lantern_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void lantern_realize(DeviceState *dev, Error **errp)
{
    LanternState *s = LANTERN(dev);

    memory_region_init_io(&s->iomem, OBJECT(s), &lantern_ops, s, "lantern", 0x100);
}

static void lantern_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    /* ruleid: qemu-device-no-vmsd */
    dc->realize = lantern_realize;
}

static const VMStateDescription vmstate_lamp = {
    .name = "lamp",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(lit, LampState),
        VMSTATE_END_OF_LIST()
    },
};

static void lamp_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    /* ok: qemu-device-no-vmsd */
    dc->realize = lantern_realize;
    dc->vmsd = &vmstate_lamp;
}

static const TypeInfo lantern_types[] = {
    {
        .name = "lantern",
        .parent = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(LanternState),
        .class_init = lantern_class_init,
    }, {
        .name = "lamp",
        .parent = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(LampState),
        .class_init = lamp_class_init,
    },
};

DEFINE_TYPES(lantern_types)
