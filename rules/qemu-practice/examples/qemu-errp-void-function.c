/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "qapi/error.h"

/* ruleid: qemu-errp-void-function */
void lantern_attach(LanternState *s, const char *name, Error **errp)
{
    if (!name) {
        error_setg(errp, "lantern: no name");
    }
}

/* ok: qemu-errp-void-function */
bool lantern_detach(LanternState *s, Error **errp)
{
    return true;
}

/* ok: qemu-errp-void-function */
static void lantern_realize(DeviceState *dev, Error **errp)
{
}
