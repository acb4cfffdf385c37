/* path: hw/misc/beacon.c */
#include "qemu/osdep.h"
#include "hw/boards.h"
#include "hw/qdev-core.h"

static int beacon_count_one(Object *obj, void *opaque)
{
    unsigned *n = opaque;

    if (object_dynamic_cast(obj, TYPE_BEACON)) {
        (*n)++;
    }
    return 0;
}

static int beacon_reset_child(Object *obj, void *opaque)
{
    device_cold_reset(DEVICE(obj));
    return 0;
}

static void beacon_realize(DeviceState *dev, Error **errp)
{
    BeaconState *s = BEACON(dev);
    unsigned n = 0;

    /* ruleid: qom-walk-whole-tree */
    object_child_foreach_recursive(object_get_root(), beacon_count_one, &n);
    s->index = n;
    /* ok: qom-walk-whole-tree */
    object_child_foreach(OBJECT(dev), beacon_reset_child, NULL);
}

static void beacon_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = beacon_realize;
}

static const TypeInfo beacon_info = {
    .name = TYPE_BEACON,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(BeaconState),
    .class_init = beacon_class_init,
};

static void beacon_register_types(void)
{
    type_register_static(&beacon_info);
}

type_init(beacon_register_types)
