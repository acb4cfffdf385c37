/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "hw/sysbus.h"

static void lantern_reset_hold(Object *obj, ResetType type)
{
    LANTERN(obj)->lit = false;
}

static void lantern_realize(DeviceState *dev, Error **errp)
{
    LanternState *s = LANTERN(dev);

    /* ruleid: qemu-reset-called-in-realize */
    lantern_reset_hold(OBJECT(dev), RESET_TYPE_COLD);
    /* ok: qemu-reset-called-in-realize */
    lantern_init_bulbs(s);
}

static void lantern_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = lantern_realize;
    rc->phases.hold = lantern_reset_hold;
}

static const TypeInfo lantern_info = {
    .name = "lantern",
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(LanternState),
    .class_init = lantern_class_init,
};

static void lantern_register_types(void)
{
    type_register_static(&lantern_info);
}

type_init(lantern_register_types)
