/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "qapi/error.h"

static void lantern_realize(DeviceState *dev, Error **errp)
{
    LanternState *s = LANTERN(dev);
    Error *local_err = NULL;

    lantern_load_bulbs(s, &local_err);
    if (local_err) {
        /* ruleid: qemu-error-propagate-local */
        error_propagate(errp, local_err);
        return;
    }
}

static bool lantern_check(LanternState *s, Error **errp)
{
    /* ok: qemu-error-propagate-local */
    if (!lantern_load_bulbs(s, errp)) {
        return false;
    }
    return true;
}
