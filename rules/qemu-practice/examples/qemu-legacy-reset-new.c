/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "hw/sysbus.h"

static void lantern_reset(DeviceState *dev)
{
    LANTERN(dev)->lit = false;
}

static void lantern_reset_hold(Object *obj, ResetType type)
{
    LANTERN(obj)->lit = false;
}

static void lantern_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    /* ruleid: qemu-legacy-reset-new */
    device_class_set_legacy_reset(dc, lantern_reset);
    /* ok: qemu-legacy-reset-new */
    rc->phases.hold = lantern_reset_hold;
}
