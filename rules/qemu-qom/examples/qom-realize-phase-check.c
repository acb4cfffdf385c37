/* path: hw/misc/fuse-box.c */
#include "qemu/osdep.h"
#include "hw/qdev-core.h"

static void fuse_box_realize(DeviceState *dev, Error **errp)
{
    /* ruleid: qom-realize-phase-check */
    if (phase_check(PHASE_MACHINE_READY)) {
        error_setg(errp, "fuse-box cannot be added at run time");
        return;
    }
}

static void fuse_box_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = fuse_box_realize;
    dc->hotpluggable = false;
}

/* A hotpluggable sibling: its phase test decides something else, so it is left alone. */
static void fuse_strip_realize(DeviceState *dev, Error **errp)
{
    FuseStripState *s = FUSE_STRIP(dev);

    /* ok: qom-realize-phase-check */
    s->late = phase_check(PHASE_MACHINE_READY);
}

static void fuse_strip_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = fuse_strip_realize;
}

static const TypeInfo fuse_types[] = {
    {
        .name = TYPE_FUSE_BOX,
        .parent = TYPE_DEVICE,
        .class_init = fuse_box_class_init,
    }, {
        .name = TYPE_FUSE_STRIP,
        .parent = TYPE_DEVICE,
        .class_init = fuse_strip_class_init,
    },
};

DEFINE_TYPES(fuse_types)
