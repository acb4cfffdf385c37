/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"

static void lantern_realize(DeviceState *dev, Error **errp)
{
    LanternState *s = LANTERN(dev);

    if (s->bulbs == 0) {
        /* ruleid: qemu-errp-error-report */
        error_report("lantern: needs at least one bulb");
        return;
    }
    if (s->bulbs > 8) {
        /* ok: qemu-errp-error-report */
        error_setg(errp, "lantern: at most 8 bulbs, not %u", s->bulbs);
        return;
    }
}

static void lantern_timer_cb(void *opaque)
{
    LanternState *s = opaque;

    if (!s->lit) {
        /* ok: qemu-errp-error-report */
        error_report("lantern: timer fired while dark");
    }
}
