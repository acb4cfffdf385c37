/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "qapi/error.h"

static void lantern_realize(DeviceState *dev, Error **errp)
{
    LanternState *s = LANTERN(dev);

    lantern_load_bulbs(s, errp);
    /* ruleid: qemu-errp-deref-without-guard */
    if (*errp) {
        return;
    }
}

static void lantern_unrealize_helper(LanternState *s, Error **errp)
{
    ERRP_GUARD();

    lantern_unload_bulbs(s, errp);
    /* ok: qemu-errp-deref-without-guard */
    if (*errp) {
        error_prepend(errp, "lantern: ");
    }
}
